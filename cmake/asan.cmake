# AddressSanitizer + UndefinedBehaviorSanitizer flavour of the C tests (ctest: asan_test_*).
#
# The library is built a second time with `swift build --sanitize=address` (Swift code and the C shim
# instrumented; swiftc has no -sanitize=undefined on Linux, Swift's own checks trap in release builds
# anyway). Every Tests/c/test_*.c is compiled with -fsanitize=address,undefined by the Swift toolchain's
# clang: ASan's runtime must be the one the library was instrumented for, and it lives in the executable
# (the library leaves the __asan_* symbols to it), as for the TSan test (cmake/tsan.cmake).
# LeakSanitizer is on (ASan's default on Linux): a leak in the library or a test fails the test.
option(ANYLLM_ASAN "Build the library with ASan and run every C test under ASan + UBSan" ON)
if(ANYLLM_ASAN AND ANYLLM_BUILD_TESTS)
  get_filename_component(_swift_bin "${SWIFT_EXECUTABLE}" DIRECTORY)
  set(_asan_clang "${_swift_bin}/clang")
  set(_asan_dir "${CMAKE_BINARY_DIR}/asan")
  set(_asan_so "${_asan_dir}/release/libanyllm.so")
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(JANSSON_ASAN REQUIRED jansson)
  add_custom_command(
    OUTPUT "${_asan_so}"
    COMMAND "${SWIFT_EXECUTABLE}" build -c release --product anyllm --package-path "${CMAKE_SOURCE_DIR}"
            --scratch-path "${_asan_dir}" --sanitize=address
    DEPENDS "${CMAKE_SOURCE_DIR}/Package.swift" ${ANYLLM_INPUTS}
    COMMENT "swift build --sanitize=address (libanyllm.so for the ASan tests)" USES_TERMINAL VERBATIM)

  # halt_on_error / -fno-sanitize-recover: the first finding fails the test with a report on stderr.
  # SWIFT_BACKTRACE=enable=no: Swift's backtracer would otherwise take over fatal signals from ASan's.
  set(_asan_env "ANYLLM_EMULATOR=${CMAKE_SOURCE_DIR}/Tests/emulator/emulator.py"
      "ANYLLM_FIXTURES=${CMAKE_SOURCE_DIR}/Tests/fixtures/recorded" "ANYLLM_PYTHON=${Python3_EXECUTABLE}"
      "SWIFT_BACKTRACE=enable=no"
      # Instrumented code runs about 2x slower: the tests' timing checks and loop sizes take the
      # scaled-down setting they use under valgrind, so that a loaded CI machine does not flake.
      "ANYLLM_UNDER_VALGRIND=1"
      "ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
      "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
  file(GLOB _asan_tests CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/Tests/c/test_*.c")
  file(GLOB _asan_headers CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/Tests/c/*.h")
  set(_asan_exes)
  foreach(src ${_asan_tests})
    get_filename_component(name "${src}" NAME_WE)
    set(exe "${_asan_dir}/${name}")
    add_custom_command(
      OUTPUT "${exe}"
      COMMAND "${_asan_clang}" -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
              -g -O1 -fuse-ld=lld -Wall -Wextra -Werror=implicit-function-declaration
              -I "${CMAKE_BINARY_DIR}/include" ${JANSSON_ASAN_CFLAGS} "${src}" -o "${exe}"
              -L "${_asan_dir}/release" -lanyllm "-Wl,-rpath,${_asan_dir}/release" ${JANSSON_ASAN_LDFLAGS} -lpthread
      DEPENDS "${_asan_so}" "${src}" ${_asan_headers} anyllm_swift
      COMMENT "${name} under ASan + UBSan" VERBATIM)
    list(APPEND _asan_exes "${exe}")
    add_test(NAME asan_${name} COMMAND "${exe}")
    set_tests_properties(asan_${name} PROPERTIES ENVIRONMENT "${_asan_env}" LABELS "asan" TIMEOUT 600)
  endforeach()
  add_custom_target(anyllm_asan ALL DEPENDS ${_asan_exes})
endif()
