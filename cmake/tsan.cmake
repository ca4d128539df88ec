# A ThreadSanitizer flavour of libanyllm.so and of the multi-threaded engine test, run by ctest
# (tsan_test_engine). TSan's runtime must be the same in the library and the executable, so the
# test is compiled with the Swift toolchain's clang, whose runtime `swift build --sanitize=thread`
# links against; the library leaves the runtime's symbols to the executable.
option(ANYLLM_TSAN "Build and run the engine test under ThreadSanitizer" ON)
if(ANYLLM_TSAN AND ANYLLM_BUILD_TESTS)
  get_filename_component(_swift_bin "${SWIFT_EXECUTABLE}" DIRECTORY)
  set(_swift_clang "${_swift_bin}/clang")
  set(_swift_rt "${_swift_bin}/../lib/swift/linux")
  set(_tsan_so "${CMAKE_BINARY_DIR}/tsan/release/libanyllm.so")
  set(_tsan_test "${CMAKE_BINARY_DIR}/tsan/test_engine_tsan")
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(JANSSON_TSAN REQUIRED jansson)
  add_custom_command(
    OUTPUT "${_tsan_so}"
    COMMAND "${SWIFT_EXECUTABLE}" build -c release --product anyllm --package-path "${CMAKE_SOURCE_DIR}"
            --scratch-path "${CMAKE_BINARY_DIR}/tsan" --sanitize=thread
    DEPENDS "${CMAKE_SOURCE_DIR}/Package.swift" ${ANYLLM_INPUTS}
    COMMENT "swift build --sanitize=thread (libanyllm.so for the TSan test)" USES_TERMINAL VERBATIM)
  add_custom_command(
    OUTPUT "${_tsan_test}"
    COMMAND "${_swift_clang}" -fsanitize=thread -g -O1 -I "${CMAKE_BINARY_DIR}/include"
            "${CMAKE_SOURCE_DIR}/Tests/c/test_engine.c" -o "${_tsan_test}"
            -L "${CMAKE_BINARY_DIR}/tsan/release" -lanyllm -L "${_swift_rt}" -ldispatch -lBlocksRuntime
            "-Wl,-rpath,${CMAKE_BINARY_DIR}/tsan/release" "-Wl,-rpath,${_swift_rt}" ${JANSSON_TSAN_LDFLAGS} -lpthread
    DEPENDS "${_tsan_so}" "${CMAKE_SOURCE_DIR}/Tests/c/test_engine.c" "${CMAKE_SOURCE_DIR}/Tests/c/util.h" anyllm_swift
    COMMENT "test_engine under ThreadSanitizer" VERBATIM)
  add_custom_target(anyllm_tsan ALL DEPENDS "${_tsan_test}")
  add_test(NAME tsan_test_engine COMMAND "${_tsan_test}")
  set_tests_properties(tsan_test_engine PROPERTIES
    ENVIRONMENT "ANYLLM_EMULATOR=${CMAKE_SOURCE_DIR}/Tests/emulator/emulator.py;ANYLLM_UNDER_VALGRIND=1;TSAN_OPTIONS=halt_on_error=1 exitcode=66"
    TIMEOUT 600)
endif()
