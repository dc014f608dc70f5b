#!/usr/bin/env bash
# Builds the official Go gRPC interop client (and grpc-go's own interop
# server, for self-checks) offline from Debian packages only:
#
#   OUTDIR/interop-client   google.golang.org/grpc/interop/client
#   OUTDIR/interop-server   google.golang.org/grpc/interop/server
#
# usage: build_go_client.sh OUTDIR
#
# Why it is done this way:
#  - Debian's golang-google-grpc-dev ships grpc-go under /usr/share/gocode but
#    drops interop/; Debian's *source* package golang-google-grpc keeps it, so
#    we `apt-get source` the exact version that is installed (a deb-src entry
#    for the mirror the machine already uses is added when there is none).
#  - The shipped interop/grpc_testing/*.pb.go were made by protoc-gen-go 1.25
#    (google.golang.org/protobuf, which Debian's gocode tree does not provide
#    here), so they are regenerated with Debian's protoc-gen-go (1.3.x, package
#    protoc-gen-go-1-3) and protoc-gen-go-grpc.
#  - The build is GOPATH mode (GO111MODULE=off) with no network: a work
#    GOPATH whose google.golang.org/grpc is the installed Debian tree
#    (symlinked entry by entry) plus interop/ from the source package, followed
#    by /usr/share/gocode for every other dependency.  So the client is built
#    against exactly the grpc-go that Debian installed.
#  - Everything Go writes (GOCACHE, GOPATH) lives under OUTDIR and the
#    caller's Go settings are neutralised, so it runs in CI with a bare
#    environment (HOME may be unset).
#
# Idempotent: a fast no-op when both binaries exist.  Quiet on success; on
# failure it names the step and prints the end of OUTDIR/build.log.
# Nothing here is committed; it is a test-setup step (ctest interop_go_build).
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
export PATH="${PATH:-/usr/local/bin:/usr/bin:/bin}"
mkdir -p "$1"
out=$(cd "$1" && pwd)
client="$out/interop-client"
server="$out/interop-server"

[ -x "$client" ] && [ -x "$server" ] && exit 0

# One build per OUTDIR at a time (two ctest runs sharing a build dir); the
# second one waits and then finds the binaries there.
exec 9>"$out/.lock"
flock 9
[ -x "$client" ] && [ -x "$server" ] && exit 0

log="$out/build.log"
: >"$log"
die() {
    echo "build_go_client: $*" >&2
    if [ -s "$log" ]; then
        echo "--- last lines of $log ---" >&2
        tail -n 40 "$log" >&2
    fi
    exit 1
}
# run DESCRIPTION CMD...: runs CMD with its output in the log, dies naming
# the step when it fails.
run() {
    local what=$1
    shift
    echo "+ $*" >>"$log"
    "$@" >>"$log" 2>&1 || die "$what failed (exit $?)"
}

for tool in go protoc apt-get dpkg-source; do
    command -v "$tool" >/dev/null ||
        die "'$tool' not found; install the test packages: deploy/local/deps.sh test"
done
for plugin in /usr/bin/protoc-gen-go /usr/bin/protoc-gen-go-grpc; do
    [ -x "$plugin" ] ||
        die "$plugin missing (packages protoc-gen-go-1-3, protoc-gen-go-grpc): deploy/local/deps.sh test"
done

gocode=/usr/share/gocode
grpc_installed="$gocode/src/google.golang.org/grpc"
[ -f "$grpc_installed/server.go" ] ||
    die "$grpc_installed missing (package golang-google-grpc-dev): deploy/local/deps.sh test"

# The source version that produced the installed golang-google-grpc-dev, so
# interop/ matches the library it is compiled against.
src_pkg=golang-google-grpc
src_ver=$(dpkg-query -W -f='${source:Version}' golang-google-grpc-dev 2>/dev/null) ||
    die "golang-google-grpc-dev is not installed: deploy/local/deps.sh test"

# as_root CMD...: for the apt configuration steps only, which are skipped
# when apt already has the source index.  sudo -n never prompts: CI has no
# terminal.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo -n "$@"
    else
        echo "not root and no sudo: cannot run $1 to set up deb-src" >&2
        return 1
    fi
}
export DEBIAN_FRONTEND=noninteractive

# True when apt already knows the wanted source version.
have_src_index() {
    local recs
    recs=$(apt-cache showsrc --only-source "$src_pkg" 2>/dev/null) || return 1
    grep -qx "Version: $src_ver" <<<"$recs"
}

# A deb-src stanza for every deb stanza of debian.sources (same mirror,
# suites, components and key), or deb-src lines for the deb lines of a
# one-line-style sources.list on machines without deb822 sources.
srcs_file=
make_deb_src_entry() {
    local tmp="$out/deb-src.tmp" # in OUTDIR: nothing left in /tmp on failure
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        srcs_file=/etc/apt/sources.list.d/shelfline-deb-src.sources
        awk '
            BEGIN { RS = ""; FS = "\n" }
            {
                isdeb = 0; body = ""
                for (i = 1; i <= NF; i++) {
                    line = $i
                    if (line ~ /^[ \t]*#/) continue
                    if (line ~ /^Types:/) {
                        if (line ~ /[: \t]deb([ \t]|$)/) isdeb = 1
                        continue
                    }
                    body = body line "\n"
                }
                if (isdeb) printf "%sTypes: deb-src\n%s", (n++ ? "\n" : ""), body
            }' /etc/apt/sources.list.d/debian.sources >"$tmp"
    elif [ -f /etc/apt/sources.list ]; then
        srcs_file=/etc/apt/sources.list.d/shelfline-deb-src.list
        sed -n 's/^[ \t]*deb[ \t]/deb-src /p' /etc/apt/sources.list >"$tmp"
    fi
    if [ -z "$srcs_file" ] || [ ! -s "$tmp" ]; then
        rm -f "$tmp"
        die "no Debian 'deb' entry found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
    fi
    {
        echo "# Added by Shelfline tests/interop/build_go_client.sh: source packages"
        echo "# for 'apt-get source golang-google-grpc' (the Go gRPC interop client)."
        cat "$tmp"
    } >"$tmp.2"
    run "installing $srcs_file" as_root install -m 0644 "$tmp.2" "$srcs_file"
    rm -f "$tmp" "$tmp.2"
}

if ! have_src_index; then
    for f in /etc/apt/sources.list.d/shelfline-deb-src.sources \
        /etc/apt/sources.list.d/shelfline-deb-src.list; do
        [ -f "$f" ] && srcs_file=$f
    done
    if [ -n "$srcs_file" ]; then
        : # ours, from an earlier run: only its index is missing
    elif ! grep -qsE '^[ \t]*(Types:.*[ \t]deb-src([ \t]|$)|deb-src[ \t])' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; then
        make_deb_src_entry
    fi
    if [ -n "$srcs_file" ]; then
        # Refresh only our entry: about a second, and it leaves the other
        # lists alone (List-Cleanup=0 keeps apt from dropping them).
        run "apt-get update (deb-src)" as_root apt-get update -qq \
            -o Dir::Etc::sourcelist="$srcs_file" -o Dir::Etc::sourceparts=- \
            -o APT::Get::List-Cleanup=0
    else
        # deb-src configured by someone else but its index is not there yet.
        run "apt-get update" as_root apt-get update -qq
    fi
    have_src_index ||
        die "apt has no source package $src_pkg=$src_ver (is the deb-src entry right?)"
fi

# Fresh source and work trees each time (a failed earlier run may have left
# half of one); GOCACHE is kept, it is safe to reuse.
rm -rf "$out/src" "$out/gopath" "$client.tmp" "$server.tmp"
mkdir -p "$out/src" "$out/gopath" "$out/gocache"
# As root apt cannot hand the download to its _apt sandbox user in a
# directory _apt may not read, so say so instead of warning about it.
run "apt-get source $src_pkg=$src_ver" \
    env -C "$out/src" apt-get source -qq -o APT::Sandbox::User="$(id -un)" "$src_pkg=$src_ver"
srcdir=$(find "$out/src" -mindepth 1 -maxdepth 1 -type d -name "$src_pkg-*" | head -n 1)
if [ -z "$srcdir" ] || [ ! -d "$srcdir/interop/client" ]; then
    die "no interop/client in the unpacked $src_pkg source under $out/src"
fi

# GOPATH work tree: google.golang.org/grpc = the installed tree + interop/.
work_grpc="$out/gopath/src/google.golang.org/grpc"
mkdir -p "$work_grpc"
for entry in "$grpc_installed"/*; do
    [ "$(basename "$entry")" = interop ] && continue
    ln -s "$entry" "$work_grpc/"
done
cp -R "$srcdir/interop" "$work_grpc/interop"

testing_dir="$work_grpc/interop/grpc_testing"
rm -f "$testing_dir"/*.pb.go
run "protoc (regenerating interop/grpc_testing)" \
    protoc --plugin=protoc-gen-go=/usr/bin/protoc-gen-go \
    --plugin=protoc-gen-go-grpc=/usr/bin/protoc-gen-go-grpc \
    -I"$testing_dir" \
    --go_out=paths=source_relative:"$testing_dir" \
    --go-grpc_out=paths=source_relative:"$testing_dir" \
    "$testing_dir/test.proto"

# No network, no user config, nothing outside OUTDIR; -buildvcs=false since
# OUTDIR may sit inside the Shelfline git checkout.
export GO111MODULE=off GOPATH="$out/gopath:$gocode" GOCACHE="$out/gocache" \
    GOENV=off GOFLAGS=-buildvcs=false GOPROXY=off GOWORK=off
unset GOROOT GOBIN GOOS GOARCH
run "go build interop/server" go build -o "$server.tmp" google.golang.org/grpc/interop/server
run "go build interop/client" go build -o "$client.tmp" google.golang.org/grpc/interop/client
# Renamed last, so the no-op check above only ever sees complete binaries.
mv "$server.tmp" "$server"
mv "$client.tmp" "$client"
