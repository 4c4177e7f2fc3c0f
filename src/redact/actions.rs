//! Actions: what replaces a detected value. `redact` (a template), `mask` (keep a prefix and suffix),
//! `hash` (a keyed, stable pseudonym), `drop_line`, and `allow` (count only).

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::detect::{numbers, Detector};
use super::text::Cursor;

/// Default replacement template of the `redact` action; `{type}` is the type name.
pub const DEFAULT_REPLACEMENT: &str = "[REDACTED:{type}]";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Redact,
    Mask,
    Hash,
    DropLine,
    Allow,
    /// `hash` when a hash key is configured, `redact` when none is: the default of identifier types
    /// (resolved when the engine is built; never seen by `render`).
    HashIfKeyed,
}

impl ActionKind {
    /// Parses an action name; the seed's `redact_in_logs` is `redact`.
    pub fn parse(text: &str) -> Option<ActionKind> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "redact" | "redact_in_logs" | "replace" => ActionKind::Redact,
            "mask" | "mask_in_logs" | "partial" => ActionKind::Mask,
            "hash" | "hash_in_logs" | "pseudonymize" | "pseudonymise" => ActionKind::Hash,
            "drop_line" | "drop" | "drop_in_logs" => ActionKind::DropLine,
            "allow" | "count" | "log_only" | "detect_only" => ActionKind::Allow,
            "hash_if_keyed" | "hash_or_redact" => ActionKind::HashIfKeyed,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Redact => "redact",
            ActionKind::Mask => "mask",
            ActionKind::Hash => "hash",
            ActionKind::DropLine => "drop_line",
            ActionKind::Allow => "allow",
            ActionKind::HashIfKeyed => "hash_if_keyed",
        }
    }
}

/// An action as configured: kind plus its options (unset options take the detector's defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionSpec {
    pub kind: ActionKind,
    /// `redact`: template, `{type}` is replaced by the type name. None: the global replacement.
    pub replacement: Option<String>,
    /// `mask`: characters kept at the start / end.
    pub keep_prefix: Option<usize>,
    pub keep_suffix: Option<usize>,
}

impl ActionSpec {
    pub fn redact() -> Self {
        ActionSpec {
            kind: ActionKind::Redact,
            replacement: None,
            keep_prefix: None,
            keep_suffix: None,
        }
    }

    /// The default action of a built-in detector: the keyed pseudonym (when a key is configured) for the
    /// identifiers of people, `redact` for the others.
    pub fn default_for(det: Detector) -> Self {
        ActionSpec {
            kind: if det.is_identifier() {
                ActionKind::HashIfKeyed
            } else {
                ActionKind::Redact
            },
            ..ActionSpec::redact()
        }
    }
}

/// The key of the `hash` action. Its bytes are never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct HashKey(Vec<u8>);

impl fmt::Debug for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HashKey(<{} bytes>)", self.0.len())
    }
}

const MIN_KEY_BYTES: usize = 16;

impl HashKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<HashKey, String> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(format!(
                "hash key is {} bytes; at least {MIN_KEY_BYTES} are needed",
                bytes.len()
            ));
        }
        Ok(HashKey(bytes.to_vec()))
    }

    /// The key as given in an environment variable (its bytes, as they are).
    pub fn from_env_value(value: &str) -> Result<HashKey, String> {
        HashKey::from_bytes(value.trim_end_matches(['\n', '\r']).as_bytes())
    }

    /// First 4 bytes of HMAC-SHA256(key, type ":" value), as 8 hex digits.
    pub fn pseudonym(&self, type_name: &str, normalized: &[u8]) -> [u8; 8] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(type_name.as_bytes());
        mac.update(b":");
        mac.update(normalized);
        let tag = mac.finalize().into_bytes();
        let mut out = [0u8; 8];
        for (i, b) in tag[..4].iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 0xF)];
        }
        out
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Is this byte a "significant" character for masking (separators and punctuation are kept)?
fn significant(c: char) -> bool {
    c.is_alphanumeric()
}

/// Masks `value`: keeps `keep_prefix` significant characters at the start and `keep_suffix` at the end,
/// replaces the other significant characters with `*`, keeps separators. When prefix and suffix together
/// would keep the whole value, everything significant is masked. Invalid UTF-8 bytes are masked too.
pub fn mask_into(value: &[u8], keep_prefix: usize, keep_suffix: usize, out: &mut Vec<u8>) {
    let text = String::from_utf8_lossy(value);
    let total = text.chars().filter(|&c| significant(c)).count();
    let (p, s) = if keep_prefix + keep_suffix >= total {
        (0, 0)
    } else {
        (keep_prefix, keep_suffix)
    };
    let mut seen = 0;
    for c in text.chars() {
        if significant(c) {
            seen += 1;
            if seen <= p || seen > total.saturating_sub(s) {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            } else {
                out.push(b'*');
            }
        } else if c == char::REPLACEMENT_CHARACTER {
            out.push(b'*');
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
}

/// An action resolved from the config for one type.
#[derive(Debug, Clone)]
pub struct Action {
    pub kind: ActionKind,
    pub type_id: usize,
    /// The built-in detector whose type this is (a user pattern may have a built-in type).
    pub det: Option<Detector>,
    /// The `redact` template with `{type}` filled in.
    pub replacement: Vec<u8>,
    /// Characters kept at the start and end by `mask`.
    pub keep: (usize, usize),
}

impl Action {
    /// Writes the replacement of `hay[start..end]`; `core` is where the part that identifies a person starts.
    pub fn render(
        &self,
        hay: &[u8],
        (start, core, end): (usize, usize, usize),
        type_name: &str,
        key: Option<&HashKey>,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) {
        match self.kind {
            ActionKind::Redact | ActionKind::HashIfKeyed => {
                out.extend_from_slice(&self.replacement)
            }
            ActionKind::Mask => {
                // A country code or scheme before the core stays as it is.
                out.extend_from_slice(&hay[start..core]);
                self.mask(&hay[core..end], out);
            }
            ActionKind::Hash => {
                write_token(self.det, hay, (core, end), type_name, key, out, scratch)
            }
            ActionKind::DropLine | ActionKind::Allow => out.extend_from_slice(&hay[start..end]),
        }
    }

    fn mask(&self, core: &[u8], out: &mut Vec<u8>) {
        match self.det {
            Some(Detector::Email) => {
                match memchr::memchr(b'@', core).or_else(|| memchr::memmem::find(core, b"%40")) {
                    Some(at) => {
                        mask_into(&core[..at], self.keep.0, 0, out);
                        out.extend_from_slice(&core[at..]);
                    }
                    None => mask_into(core, self.keep.0, self.keep.1, out),
                }
            }
            Some(Detector::Ipv4) => {
                let mut parts = core.split(|&b| b == b'.');
                out.extend_from_slice(parts.next().unwrap_or_default());
                out.push(b'.');
                out.extend_from_slice(parts.next().unwrap_or_default());
                out.extend_from_slice(b".*.*");
            }
            Some(Detector::Secret | Detector::Password | Detector::Ipv6) => {
                out.extend_from_slice(b"********")
            }
            _ => mask_into(core, self.keep.0, self.keep.1, out),
        }
    }
}

/// Writes the `hash` action's token `[type:hex8]` for `hay[core..end]` (a value of the built-in detector
/// `det`'s kind, or of a user type when None), normalized first. The one place a token is made: redaction
/// and `logveil pseudonym` both write it here.
pub fn write_token(
    det: Option<Detector>,
    hay: &[u8],
    (core, end): (usize, usize),
    type_name: &str,
    key: Option<&HashKey>,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) {
    scratch.clear();
    normalize(det, hay, core, end, scratch);
    let tag = key
        .map(|k| k.pseudonym(type_name, scratch))
        .unwrap_or(*b"00000000");
    out.push(b'[');
    out.extend_from_slice(type_name.as_bytes());
    out.push(b':');
    out.extend_from_slice(&tag);
    out.push(b']');
}

/// The form of a value that is hashed: the same person gives the same pseudonym however it was written.
fn normalize(det: Option<Detector>, hay: &[u8], start: usize, end: usize, out: &mut Vec<u8>) {
    let core = &hay[start..end];
    match det {
        Some(Detector::Phone | Detector::IdCard | Detector::BankCard) => {
            numbers::normalize(hay, start, end, out)
        }
        Some(Detector::Email) => {
            let lower = core.to_ascii_lowercase();
            let mut i = 0;
            while i < lower.len() {
                if lower[i] == b'%' && lower.get(i + 1..i + 3) == Some(b"40") {
                    out.push(b'@');
                    i += 3;
                } else if lower[i] == b'%' && lower.get(i + 1..i + 3) == Some(b"2b") {
                    out.push(b'+');
                    i += 3;
                } else {
                    out.push(lower[i]);
                    i += 1;
                }
            }
        }
        Some(Detector::Ipv6) => out.extend(core.to_ascii_lowercase()),
        // Identifiers as a reader sees them: the same id full-width, `\uXXXX`-escaped or URL-encoded is
        // the same id.
        Some(d) if d.is_identifier() => {
            let mut buf = [0u8; 4];
            for ch in Cursor::new(hay, start, start).take_while(|ch| ch.end <= end) {
                out.extend_from_slice(ch.c.encode_utf8(&mut buf).as_bytes());
            }
        }
        _ => out.extend_from_slice(core),
    }
}

/// Fills `{type}` in a replacement template.
pub fn render_template(template: &str, type_name: &str) -> Vec<u8> {
    template.replace("{type}", type_name).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keeps_prefix_suffix_and_separators() {
        let mut out = Vec::new();
        mask_into(b"13812345678", 3, 4, &mut out);
        assert_eq!(out, b"138****5678");
        out.clear();
        mask_into(b"6222020000000000123", 4, 4, &mut out);
        assert_eq!(out, b"6222***********0123");
        out.clear();
        mask_into(b"6222 0200 0000 0123", 4, 4, &mut out);
        assert_eq!(out, b"6222 **** **** 0123");
        out.clear();
        mask_into(b"abc", 1, 1, &mut out);
        assert_eq!(out, b"a*c");
        out.clear();
        mask_into(b"ab", 1, 1, &mut out);
        assert_eq!(
            out, b"**",
            "a value shorter than what is kept is masked whole"
        );
    }

    #[test]
    fn pseudonyms_are_stable_per_key_and_differ_across_keys() {
        let k1 = HashKey::from_bytes(&[1; 32]).unwrap();
        let k2 = HashKey::from_bytes(&[2; 32]).unwrap();
        assert_eq!(
            k1.pseudonym("phone", b"13812345678"),
            k1.pseudonym("phone", b"13812345678")
        );
        assert_ne!(
            k1.pseudonym("phone", b"13812345678"),
            k2.pseudonym("phone", b"13812345678")
        );
        assert_ne!(
            k1.pseudonym("phone", b"13812345678"),
            k1.pseudonym("phone", b"13912345678")
        );
        assert!(k1
            .pseudonym("phone", b"1")
            .iter()
            .all(u8::is_ascii_hexdigit));
    }

    #[test]
    fn short_keys_are_refused_and_key_bytes_never_debug_printed() {
        assert!(HashKey::from_bytes(b"short").is_err());
        let k = HashKey::from_bytes(b"0123456789abcdef-secret").unwrap();
        let dbg = format!("{k:?}");
        assert!(!dbg.contains("secret"), "{dbg}");
    }

    #[test]
    fn action_names_accept_the_seed_spelling() {
        assert_eq!(
            ActionKind::parse("redact_in_logs"),
            Some(ActionKind::Redact)
        );
        assert_eq!(ActionKind::parse("MASK"), Some(ActionKind::Mask));
        assert_eq!(ActionKind::parse("drop_line"), Some(ActionKind::DropLine));
        assert_eq!(ActionKind::parse("encrypt"), None);
    }
}
