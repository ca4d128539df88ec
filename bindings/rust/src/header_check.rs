//! Checks `src/ffi.rs` against the C headers: every `anyllm_*` prototype of `anyllm.h` is declared
//! with the same parameter names, count and types (and the same return type), nothing extra is
//! declared, the callback typedefs match, and the status enum has the same names and values.
//!
//! Headers are read from `$ANYLLM_INCLUDE_DIR`, else the repository's `include/`.

use std::collections::BTreeMap;
use std::path::PathBuf;

const FFI_SOURCE: &str = include_str!("ffi.rs");

fn include_dir() -> PathBuf {
    match std::env::var_os("ANYLLM_INCLUDE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../include"),
    }
}

fn read_header(name: &str) -> String {
    let path = include_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    strip_comments(&text)
}

fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        match rest[start..].find("*/") {
            Some(end) => rest = &rest[start + end + 2..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out.replace("extern \"C\" {", " ")
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ")
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A C type as the Rust declaration must spell it.
fn rust_type_of(c_type: &str) -> String {
    let t = squash(&c_type.replace('*', " * "));
    let mapped = match t.as_str() {
        "void" => "",
        "const char *" => "*const c_char",
        "char *" => "*mut c_char",
        "char * *" => "*mut *mut c_char",
        "void *" => "*mut c_void",
        "const char * *" => "*mut *const c_char",
        "size_t" => "usize",
        "size_t *" => "*mut usize",
        "int" => "c_int",
        "int32_t" => "i32",
        "uint64_t" => "u64",
        "anyllm_client *" => "*mut anyllm_client",
        "anyllm_call *" => "*mut anyllm_call",
        "anyllm_status" | "anyllm_chunk_fn" | "anyllm_done_fn" => return t,
        other => panic!("header_check: no Rust mapping for C type `{other}`"),
    };
    mapped.to_string()
}

/// `(name, type)` of one C parameter such as `const char *request_json`.
fn c_param(param: &str) -> (String, String) {
    let p = param.trim();
    let split = p.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).expect("a C parameter has a type and a name");
    (p[split + 1..].to_string(), rust_type_of(&p[..=split]))
}

type Signature = (Vec<(String, String)>, String);

/// `name -> ((param name, Rust type)..., Rust return type)` from C prototypes.
fn c_prototypes(text: &str) -> BTreeMap<String, Signature> {
    let mut found = BTreeMap::new();
    for decl in text.split(';') {
        let decl = squash(decl);
        let Some(open) = decl.find("anyllm_").and_then(|_| decl.find('(')) else { continue };
        if decl.starts_with("typedef") || !decl.ends_with(')') {
            continue;
        }
        let head = &decl[..open];
        let name_at = head.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
        let name = head[name_at..].to_string();
        if !name.starts_with("anyllm_") {
            continue;
        }
        let ret = rust_type_of(&head[..name_at]);
        let inner = &decl[open + 1..decl.len() - 1];
        let params = if inner.trim() == "void" { Vec::new() } else { inner.split(',').map(c_param).collect() };
        found.insert(name, (params, ret));
    }
    found
}

/// The same from the `extern "C"` block of ffi.rs.
fn rust_prototypes() -> BTreeMap<String, Signature> {
    let block_start = FFI_SOURCE.find("extern \"C\" {").expect("ffi.rs has an extern block");
    let block = &FFI_SOURCE[block_start..];
    let block = &block[..block.find("\n}").expect("the extern block ends")];
    let mut found = BTreeMap::new();
    for decl in block.split(';') {
        let decl = squash(decl);
        let Some(at) = decl.find("pub fn ") else { continue };
        let decl = &decl[at + 7..];
        let open = decl.find('(').unwrap();
        let close = decl.rfind(')').unwrap();
        let name = decl[..open].trim().to_string();
        let ret = decl[close + 1..].trim().trim_start_matches("->").trim().to_string();
        let params = decl[open + 1..close]
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (n, t) = p.split_once(':').expect("name: type");
                (n.trim().to_string(), squash(t))
            })
            .collect();
        found.insert(name, (params, ret));
    }
    found
}

#[test]
fn every_prototype_of_anyllm_h_is_declared_alike() {
    let c = c_prototypes(&read_header("anyllm.h"));
    let rust = rust_prototypes();
    assert!(c.len() >= 10, "too few prototypes parsed from anyllm.h: {c:?}");
    for (name, sig) in &c {
        let mine = rust.get(name).unwrap_or_else(|| panic!("ffi.rs does not declare {name}"));
        assert_eq!(mine.0.len(), sig.0.len(), "{name}: parameter count");
        assert_eq!(mine, sig, "{name}: parameters or return type differ");
    }
    let extra: Vec<_> = rust.keys().filter(|n| !c.contains_key(*n)).collect();
    assert!(extra.is_empty(), "ffi.rs declares functions anyllm.h lacks: {extra:?}");
}

#[test]
fn callback_typedefs_match() {
    let types = read_header("anyllm_types.h");
    for (c_name, expect) in [("anyllm_chunk_fn", "c_int"), ("anyllm_done_fn", "")] {
        let decl = types
            .split(';')
            .map(squash)
            .find(|d| d.contains(&format!("(*{c_name})")))
            .unwrap_or_else(|| panic!("{c_name} not in anyllm_types.h"));
        let ret = rust_type_of(decl.trim_start_matches("typedef").split('(').next().unwrap());
        assert_eq!(ret, expect, "{c_name}: return type");
        let params_c = &decl[decl.rfind('(').unwrap() + 1..decl.rfind(')').unwrap()];
        let c_params: Vec<_> = params_c.split(',').map(c_param).collect();

        let alias = squash(
            FFI_SOURCE
                .split(&format!("pub type {c_name} ="))
                .nth(1)
                .and_then(|s| s.split(";").next())
                .unwrap_or_else(|| panic!("ffi.rs lacks {c_name}")),
        );
        let rust_params = &alias[alias.find("fn(").unwrap() + 3..alias.find(')').unwrap()];
        let rust_params: Vec<_> = rust_params
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (n, t) = p.split_once(':').unwrap();
                (n.trim().to_string(), squash(t))
            })
            .collect();
        assert_eq!(rust_params, c_params, "{c_name}: parameters");
        let rust_ret = alias[alias.find(')').unwrap() + 1..].trim_end_matches('>').trim_matches(|c| " ->,".contains(c));
        assert_eq!(rust_ret, expect, "{c_name}: Rust return type");
    }
}

#[test]
fn status_values_match() {
    let types = read_header("anyllm_types.h");
    let body_start = types.find("typedef enum anyllm_status").expect("status enum");
    let body = &types[types[body_start..].find('{').unwrap() + body_start + 1..];
    let body = &body[..body.find('}').unwrap()];
    let c: Vec<(String, i32)> = body
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (n, v) = e.split_once('=').expect("every status has an explicit value");
            (n.trim().to_string(), v.trim().parse().unwrap())
        })
        .collect();
    let rust: Vec<(String, i32)> = crate::ffi::STATUS_NAMES.iter().map(|(n, v)| (n.to_string(), *v)).collect();
    assert_eq!(rust, c);
}
