# shellcheck shell=bash
# Sourced by the tests that run Node scripts (tests/interop,
# tests/deploy): installs a folder's locked npm packages into a folder of
# the build, once.  The sourcing script defines die().
#
#   sl_npm_ci PACKAGE_DIR DEST_DIR LOG_FILE
#
# PACKAGE_DIR holds package.json and package-lock.json; `npm ci` runs on
# copies of them in DEST_DIR, so node_modules lands in DEST_DIR (point
# NODE_PATH at DEST_DIR/node_modules).  Nothing is fetched again while the
# lock file is unchanged.
sl_npm_ci() {
    local src=$1 dir=$2 log=$3
    mkdir -p "$dir"
    # Two runs at once (ctest -j) must not install into the same folder.
    exec 9>"$dir/.install.lock"
    flock 9
    # The stamp is written only after a complete install, so an interrupted
    # one is redone; a changed package-lock.json is reinstalled.
    if ! cmp -s "$src/package-lock.json" "$dir/.installed" ||
        ! cmp -s "$src/package.json" "$dir/package.json" ||
        [ ! -d "$dir/node_modules" ]; then
        rm -f "$dir/.installed"
        cp "$src/package.json" "$src/package-lock.json" "$dir/"
        if ! (cd "$dir" && npm ci --ignore-scripts --prefer-offline --no-audit \
            --no-fund --loglevel=error) >"$log" 2>&1; then
            cat "$log" >&2
            exec 9>&-
            die "npm ci in $dir failed"
        fi
        cp "$src/package-lock.json" "$dir/.installed"
    fi
    exec 9>&-
}
