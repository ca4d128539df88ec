//! Finds libanyllm.so and links it.
//!
//! Search order: `$ANYLLM_LIB_DIR`, then `pkg-config anyllm`, then the repository's own build output
//! (`../../build/lib`). The directory found is written as an rpath into this package's test,
//! example and bench binaries, so they run without `LD_LIBRARY_PATH`, and is exported to dependent
//! build scripts as `DEP_ANYLLM_LIB_DIR` (they can emit their own rpath from it).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const LIB_FILE: &str = "libanyllm.so";

fn main() {
    println!("cargo:rerun-if-env-changed=ANYLLM_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-changed=build.rs");

    let dir = from_env().or_else(from_pkg_config).or_else(from_repo_build);
    match dir {
        Some(dir) => {
            println!("cargo:rerun-if-changed={}", dir.join(LIB_FILE).display());
            println!("cargo:rustc-link-search=native={}", dir.display());
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
            println!("cargo:lib_dir={}", dir.display());
        }
        None => println!(
            "cargo:warning=libanyllm.so not found (set ANYLLM_LIB_DIR, install anyllm.pc for \
             pkg-config, or build the library into ../../build/lib); relying on the linker's \
             default search path"
        ),
    }
    println!("cargo:rustc-link-lib=dylib=anyllm");
}

fn from_env() -> Option<PathBuf> {
    let dir = PathBuf::from(env::var_os("ANYLLM_LIB_DIR")?);
    if !dir.join(LIB_FILE).exists() {
        println!("cargo:warning=ANYLLM_LIB_DIR={} holds no {}", dir.display(), LIB_FILE);
    }
    Some(absolute(&dir))
}

fn from_pkg_config() -> Option<PathBuf> {
    let out = Command::new("pkg-config").args(["--libs-only-L", "anyllm"]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    text.split_whitespace()
        .filter_map(|flag| flag.strip_prefix("-L"))
        .map(PathBuf::from)
        .find(|dir| dir.join(LIB_FILE).exists())
}

fn from_repo_build() -> Option<PathBuf> {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR")?);
    let dir = manifest.join("../../build/lib");
    if dir.join(LIB_FILE).exists() {
        Some(absolute(&dir))
    } else {
        None
    }
}

fn absolute(dir: &Path) -> PathBuf {
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}
