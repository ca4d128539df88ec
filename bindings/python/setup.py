"""Build glue: puts libanyllm.so inside the package.

The library is taken from, in order: $ANYLLM_LIBRARY (a built .so), the repository's
build/lib/libanyllm.so, or a fresh cmake build of the repository in bindings/python/build/cmake
(tests off; the repository's own build directory is left alone). Everything else is in
pyproject.toml. The wheel is tagged py3-none-<platform>: ctypes needs no particular CPython ABI.
"""

import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir))
LIB = "libanyllm.so"


def _locked(cmd):
    """Runs a build command holding /tmp/anyllm-build.lock (never two builds at once)."""
    import fcntl

    with open("/tmp/anyllm-build.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.check_call(cmd)


def find_or_build_library():
    env = os.environ.get("ANYLLM_LIBRARY")
    if env:
        if not os.path.isfile(env):
            raise SystemExit("ANYLLM_LIBRARY=%s does not exist" % env)
        return env
    built = os.path.join(REPO, "build", "lib", LIB)
    if os.path.isfile(built):
        return built
    if not os.path.isfile(os.path.join(REPO, "CMakeLists.txt")):
        raise SystemExit("libanyllm.so not found: build the repository first, or set ANYLLM_LIBRARY to the .so")
    build_dir = os.path.join(HERE, "build", "cmake")
    _locked(["cmake", "-S", REPO, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release", "-DANYLLM_BUILD_TESTS=OFF"])
    _locked(["cmake", "--build", build_dir, "--target", "anyllm_swift"])
    return os.path.join(build_dir, "lib", LIB)


class BuildPyWithLibrary(build_py):
    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "anyllm", LIB)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(find_or_build_library(), target)
        os.chmod(target, 0o755)

    def get_outputs(self, include_bytecode=1):
        return super().get_outputs(include_bytecode) + [os.path.join(self.build_lib, "anyllm", LIB)]


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True  # a platform wheel, installed into platlib


cmdclass = {"build_py": BuildPyWithLibrary}
try:
    try:
        from setuptools.command.bdist_wheel import bdist_wheel
    except ImportError:
        from wheel.bdist_wheel import bdist_wheel

    class PlatformWheel(bdist_wheel):
        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            return ("py3", "none", super().get_tag()[2])

    cmdclass["bdist_wheel"] = PlatformWheel
except ImportError:
    pass

setup(cmdclass=cmdclass, distclass=BinaryDistribution)
