# Writes a C file defining the bytes of one text file as
#   const char <SYMBOL>[];  const size_t <SYMBOL>_len;
# so that a service binary (and its container image) carries the data it
# trains on.  Invoked by services/CMakeLists.txt with IN, OUT and SYMBOL.
file(READ ${IN} data HEX)
string(LENGTH "${data}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," data "${data}")
file(WRITE ${OUT}.tmp "/* generated from ${IN}; do not edit */\n#include <stddef.h>\n\n"
  "extern const char ${SYMBOL}[];\nextern const size_t ${SYMBOL}_len;\n\n"
  "const char ${SYMBOL}[] = {${data} 0};\nconst size_t ${SYMBOL}_len = ${len};\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
