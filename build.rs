//! Builds the DFA of the built-in patterns at compile time, so that a run on the defaults starts at once.
//! The same code (src/redact/dfa_build.rs) builds it at run time when a config adds patterns.

#[allow(dead_code)]
#[path = "src/redact/patterns.rs"]
mod patterns;

#[allow(dead_code)]
#[path = "src/redact/dfa_build.rs"]
mod dfa_build;

fn main() {
    println!("cargo:rerun-if-changed=src/redact/patterns.rs");
    println!("cargo:rerun-if-changed=src/redact/dfa_build.rs");
    let regexes: Vec<&str> = patterns::BUILTIN_PATTERNS.iter().map(|p| p.regex).collect();
    // Minimized: built once here, so the time it takes costs nothing at run time.
    let (fwd, rev) = dfa_build::build(&regexes, true).expect("the built-in patterns build a DFA");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    for (name, dfa) in [("builtin_fwd.dfa", &fwd), ("builtin_rev.dfa", &rev)] {
        let (bytes, pad) = dfa.to_bytes_little_endian();
        std::fs::write(out.join(name), &bytes[pad..]).expect("write the DFA");
    }
}
