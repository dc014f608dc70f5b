# Sourced by the interop scripts with a Go client: go_build MAIN_GO OUTDIR
# BIN builds MAIN_GO into OUTDIR/BIN against Debian's Go packages
# (/usr/share/gocode, GOPATH mode, no network), one build at a time per
# OUTDIR, again only when the source is newer.  The caller defines die().
go_build() {
    local main=$1 out=$2 bin=$2/$3
    (
        exec 9>"$out/.lock"
        flock 9
        if [ ! -x "$bin" ] || [ "$main" -nt "$bin" ]; then
            mkdir -p "$out/gopath" "$out/gocache"
            export GO111MODULE=off GOPATH="$out/gopath:/usr/share/gocode" GOCACHE="$out/gocache" \
                GOENV=off GOFLAGS=-buildvcs=false GOPROXY=off GOWORK=off
            unset GOROOT GOBIN GOOS GOARCH
            go build -o "$bin.tmp" "$main" || die "go build $main failed"
            mv "$bin.tmp" "$bin"
        fi
    )
}
