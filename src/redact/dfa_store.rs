//! Compiled DFAs kept between runs. Building the DFA of a config's patterns takes a second or more; loading
//! it takes milliseconds. redact does no I/O: the caller hands the engine a [`DfaStore`] (logveil keeps the
//! DFAs in files, see `src/dfa_cache.rs`), and this module makes the key, the stored form and its checks.
//!
//! Stored bytes are never trusted: the key, the lengths and a SHA-256 over everything are checked, then
//! regex-automata validates each DFA, and the pattern count must match. Bytes failing any check are
//! reported to the store, and the DFAs are rebuilt and stored again.

use std::fmt;

use regex_automata::dfa::{dense, Automaton};
use sha2::{Digest, Sha256};

use super::dfa_build::{self, BuildFailure, Dfa};

/// Where compiled DFAs are kept, given by the caller (see the module documentation).
pub trait DfaStore: Send + Sync {
    /// The bytes saved under `key` earlier, if any.
    fn load(&self, key: &str) -> Option<Vec<u8>>;
    /// Keeps `bytes` under `key`, best effort: a store that cannot keep them just does not.
    fn save(&self, key: &str, bytes: &[u8]);
    /// The bytes loaded under `key` failed a check (`why`) and were not used; they are rebuilt.
    fn rejected(&self, key: &str, why: &str);
}

impl fmt::Debug for dyn DfaStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DfaStore")
    }
}

const MAGIC: &[u8; 8] = b"LVDFA\0\x01\0";
/// Magic, key (64 hex digits), two lengths, SHA-256; the DFAs follow at 8-byte boundaries.
const HEADER: usize = 8 + 64 + 8 + 8 + 32;
const HEADER_PADDED: usize = HEADER.next_multiple_of(8);

/// The key of the DFAs built from `regexes`: a SHA-256 (hex) of the stored form's version, logveil's
/// version, the build code with its options (dfa_build.rs), the target's byte order and word size, and
/// the patterns.
pub fn key(regexes: &[&str]) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(MAGIC);
    field(env!("CARGO_PKG_VERSION").as_bytes());
    field(include_str!("dfa_build.rs").as_bytes());
    field(if cfg!(target_endian = "little") {
        b"le"
    } else {
        b"be"
    });
    field(&(usize::BITS as u64).to_le_bytes());
    for r in regexes {
        field(r.as_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The DFAs for `regexes`: loaded from `store` when it has good ones, else built (and saved to `store`).
pub fn load_or_build(
    regexes: &[&str],
    store: Option<&dyn DfaStore>,
) -> Result<(Dfa, Dfa), BuildFailure> {
    let Some(store) = store else {
        return dfa_build::build(regexes, false);
    };
    let key = key(regexes);
    if let Some(bytes) = store.load(&key) {
        match decode(&bytes, &key, regexes.len()) {
            Ok(dfas) => return Ok(dfas),
            Err(why) => store.rejected(&key, &why),
        }
    }
    let (fwd, rev) = dfa_build::build(regexes, false)?;
    store.save(&key, &encode(&key, &fwd, &rev));
    Ok((fwd, rev))
}

/// The stored form: header, then the forward and the reverse DFA (native byte order), 8-byte aligned.
pub fn encode(key: &str, fwd: &Dfa, rev: &Dfa) -> Vec<u8> {
    let (f_len, r_len) = (fwd.write_to_len(), rev.write_to_len());
    let f_end = HEADER_PADDED + f_len;
    let r_at = f_end.next_multiple_of(8);
    // Written in place (no copy of the DFAs besides this one).
    let mut out = vec![0u8; r_at + r_len];
    out[..8].copy_from_slice(MAGIC);
    out[8..72].copy_from_slice(key.as_bytes());
    out[72..80].copy_from_slice(&(f_len as u64).to_le_bytes());
    out[80..88].copy_from_slice(&(r_len as u64).to_le_bytes());
    let written = |r: Result<usize, _>| r.expect("the buffer has the size the DFA asked for");
    written(fwd.write_to_native_endian(&mut out[HEADER_PADDED..f_end]));
    written(rev.write_to_native_endian(&mut out[r_at..]));
    let digest = digest(&out);
    out[88..120].copy_from_slice(&digest);
    out
}

/// SHA-256 over the stored form with its digest field zeroed.
fn digest(bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(&bytes[..88]);
    h.update([0u8; 32]);
    h.update(&bytes[120..]);
    h.finalize().into()
}

/// Checks the stored form and loads its DFAs; why not, when it fails a check.
pub fn decode(bytes: &[u8], key: &str, patterns: usize) -> Result<(Dfa, Dfa), String> {
    if bytes.len() < HEADER_PADDED || &bytes[..8] != MAGIC {
        return Err("not a logveil DFA file of this version".into());
    }
    if &bytes[8..72] != key.as_bytes() {
        return Err("made for other patterns or another build".into());
    }
    let len = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    let (f_len, r_len) = (len(72), len(80));
    let f_end = (HEADER_PADDED as u64).saturating_add(f_len);
    let r_at = f_end.next_multiple_of(8);
    if r_at.saturating_add(r_len) != bytes.len() as u64 {
        return Err("truncated or padded".into());
    }
    if digest(bytes) != bytes[88..120] {
        return Err("checksum mismatch".into());
    }
    let (f_end, r_at) = (f_end as usize, r_at as usize);
    let fwd = load(&bytes[HEADER_PADDED..f_end])?;
    let rev = load(&bytes[r_at..])?;
    if fwd.pattern_len() != patterns || rev.pattern_len() != patterns {
        return Err("wrong number of patterns".into());
    }
    Ok((fwd, rev))
}

/// One DFA from its serialized bytes (validated by regex-automata), copied into its own memory.
fn load(bytes: &[u8]) -> Result<Dfa, String> {
    // The transition table is read as u32s: the bytes must start at a 4-byte boundary.
    let aligned;
    let bytes = if bytes.as_ptr().align_offset(4) == 0 {
        bytes
    } else {
        let mut copy = vec![0u8; bytes.len() + 4];
        let at = copy.as_ptr().align_offset(4);
        copy[at..at + bytes.len()].copy_from_slice(bytes);
        aligned = copy;
        &aligned[at..at + bytes.len()]
    };
    dense::DFA::from_bytes(bytes)
        .map(|(dfa, _)| dfa.to_owned())
        .map_err(|e| format!("not a valid DFA: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A store in memory that records what it was asked.
    #[derive(Default)]
    struct Memory {
        kept: Mutex<Option<(String, Vec<u8>)>>,
        rejected: Mutex<Vec<String>>,
        saves: Mutex<usize>,
    }

    impl DfaStore for Memory {
        fn load(&self, key: &str) -> Option<Vec<u8>> {
            let kept = self.kept.lock().unwrap();
            kept.as_ref()
                .filter(|(k, _)| k == key)
                .map(|(_, b)| b.clone())
        }
        fn save(&self, key: &str, bytes: &[u8]) {
            *self.kept.lock().unwrap() = Some((key.to_string(), bytes.to_vec()));
            *self.saves.lock().unwrap() += 1;
        }
        fn rejected(&self, _key: &str, why: &str) {
            self.rejected.lock().unwrap().push(why.to_string());
        }
    }

    const PATTERNS: &[&str] = &[
        r"(?-u:\b)1[3-9][0-9]{9}",
        r"[a-z]+@[a-z]+\.com",
        r"[0-9]{16,19}",
    ];

    fn same(a: &(Dfa, Dfa), b: &(Dfa, Dfa)) -> bool {
        a.0.to_bytes_native_endian() == b.0.to_bytes_native_endian()
            && a.1.to_bytes_native_endian() == b.1.to_bytes_native_endian()
    }

    #[test]
    fn built_once_then_loaded_identical() {
        let store = Memory::default();
        let built = load_or_build(PATTERNS, Some(&store)).unwrap();
        assert_eq!(*store.saves.lock().unwrap(), 1);
        let loaded = load_or_build(PATTERNS, Some(&store)).unwrap();
        assert_eq!(*store.saves.lock().unwrap(), 1, "loaded, not rebuilt");
        assert!(same(&built, &loaded));
        assert!(store.rejected.lock().unwrap().is_empty());
    }

    #[test]
    fn the_key_changes_with_any_pattern_and_their_order() {
        let k = key(PATTERNS);
        assert_eq!(k.len(), 64);
        assert_ne!(k, key(&PATTERNS[..2]));
        assert_ne!(k, key(&[PATTERNS[1], PATTERNS[0], PATTERNS[2]]));
        assert_ne!(k, key(&[PATTERNS[0], PATTERNS[1], r"[0-9]{16,18}"]));
        // No ambiguity in how the patterns are joined.
        assert_ne!(key(&["ab", "c"]), key(&["a", "bc"]));
    }

    #[test]
    fn every_corruption_is_caught_and_rebuilt() {
        let store = Memory::default();
        let built = load_or_build(PATTERNS, Some(&store)).unwrap();
        let (key, good) = store.kept.lock().unwrap().clone().unwrap();
        let len = good.len();
        let mut cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("truncated", good[..len - 1].to_vec()),
            ("header only", good[..HEADER_PADDED].to_vec()),
            ("appended", [&good[..], b"x"].concat()),
        ];
        // One flipped bit anywhere: magic, key, lengths, digest, either DFA.
        for at in [0, 9, 73, 81, 100, HEADER_PADDED + 7, len / 2, len - 1] {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            cases.push(("flipped bit", bad));
        }
        for (what, bad) in cases {
            *store.kept.lock().unwrap() = Some((key.clone(), bad));
            store.rejected.lock().unwrap().clear();
            let got = load_or_build(PATTERNS, Some(&store)).unwrap();
            assert!(same(&got, &built), "{what}: rebuilt DFAs");
            assert_eq!(store.rejected.lock().unwrap().len(), 1, "{what}: reported");
            let (_, kept) = store.kept.lock().unwrap().clone().unwrap();
            assert!(kept == good, "{what}: stored again");
        }
    }

    #[test]
    fn a_good_file_for_other_patterns_is_not_used() {
        let store = Memory::default();
        load_or_build(&PATTERNS[..2], Some(&store)).unwrap();
        let (_, other) = store.kept.lock().unwrap().clone().unwrap();
        // Stored under this key by mistake (a renamed file): its own key and pattern count say no.
        let k = key(PATTERNS);
        let err = decode(&other, &k, PATTERNS.len()).unwrap_err();
        assert!(err.contains("other patterns"), "{err}");
    }

    #[test]
    fn misaligned_bytes_load_too() {
        let store = Memory::default();
        let built = load_or_build(PATTERNS, Some(&store)).unwrap();
        let (key, good) = store.kept.lock().unwrap().clone().unwrap();
        let mut shifted = vec![0u8; good.len() + 1];
        shifted[1..].copy_from_slice(&good);
        let loaded = decode(&shifted[1..], &key, PATTERNS.len()).unwrap();
        assert!(same(&built, &loaded));
    }
}
