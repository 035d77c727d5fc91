#!/usr/bin/env bash
# `meson install` gives a usable package: installs the build into a temporary DESTDIR, then
# builds and runs an external consumer (packaging/consumer) against it twice, with pkg-config
# and with CMake's find_package(mongowire CONFIG REQUIRED).
#   install_consumer_test.sh MESON BUILD_DIR PREFIX LIBDIR INCLUDEDIR CONSUMER_DIR
# Exit 77 (skipped) when cmake is not installed.
set -u
meson=$1 build=$2 prefix=$3 libdir=$4 includedir=$5 consumer=$6
command -v cmake >/dev/null || { echo "SKIP: cmake is not installed (Debian package cmake)"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
case $includedir in /*) ;; *) includedir=$prefix/$includedir ;; esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
root=$dir/root

"$meson" install -C "$build" --no-rebuild --quiet --destdir "$root" >"$dir/install.log" 2>&1 ||
  fail "meson install: $(tail -20 "$dir/install.log")"
for f in "$libdir/libmongowire.so" "$libdir/libmongowire_test_server.so" "$includedir/mongowire/client.hpp" \
  "$includedir/mongowire/test_server.hpp" "$libdir/pkgconfig/mongowire.pc" "$libdir/pkgconfig/mongowire-test-server.pc" \
  "$libdir/cmake/mongowire/mongowire-config.cmake" "$libdir/cmake/mongowire/mongowire-config-version.cmake" \
  "$prefix/bin/mongowire-testd" "$prefix/bin/txnbench" "$prefix/bin/mongowire-cli"; do
  [ -e "$root$f" ] || fail "not installed: $f"
done
export LD_LIBRARY_PATH=$root$libdir

# pkg-config: the .pc files name the configured prefix; point them at the DESTDIR copy.
mkdir -p "$dir/pc"
for pc in mongowire mongowire-test-server; do
  sed "s|^prefix=.*|prefix=$root$prefix|" "$root$libdir/pkgconfig/$pc.pc" >"$dir/pc/$pc.pc"
done
flags=$(PKG_CONFIG_PATH=$dir/pc pkg-config --cflags --libs mongowire-test-server mongowire) || fail "pkg-config"
c++ -std=c++20 -O1 "$consumer/consumer.cpp" -o "$dir/consumer-pkg-config" $flags 2>"$dir/pc.log" ||
  fail "build with pkg-config: $(head -30 "$dir/pc.log")"
"$dir/consumer-pkg-config" || fail "the pkg-config consumer failed"

# CMake: the package config is relocatable, CMAKE_PREFIX_PATH finds it under DESTDIR.
cmake -S "$consumer" -B "$dir/cmake" -DCMAKE_PREFIX_PATH="$root$prefix" -DCMAKE_BUILD_TYPE=Release >"$dir/cmake.log" 2>&1 ||
  fail "cmake configure: $(tail -30 "$dir/cmake.log")"
cmake --build "$dir/cmake" >>"$dir/cmake.log" 2>&1 || fail "cmake build: $(tail -30 "$dir/cmake.log")"
"$dir/cmake/consumer" || fail "the CMake consumer failed"
echo "PASS: installed into a DESTDIR; consumers built with pkg-config and CMake ran a transaction"
