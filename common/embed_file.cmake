# Writes a C file holding FILE's bytes as SYMBOL[] and SYMBOL_len.
# Invoked by shelfline_embed_file with OUT, SYMBOL and FILE.
file(READ ${FILE} bytes HEX)
string(LENGTH "${bytes}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${bytes}")
set(body "/* generated from ${FILE}; do not edit */\n#include <stddef.h>\n\n")
string(APPEND body "extern const unsigned char ${SYMBOL}[];\nextern const size_t ${SYMBOL}_len;\n")
string(APPEND body "const unsigned char ${SYMBOL}[] = {${bytes} 0};\n")
string(APPEND body "const size_t ${SYMBOL}_len = ${len};\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
