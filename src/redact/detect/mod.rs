//! Detectors: the decisions made on DFA candidates, one module per family. Each reads the text around a
//! candidate through [`crate::redact::text`] (so every encoding is handled once, there) and within the two
//! limits of a [`Context`].
//!
//! - [`checksums`]: Luhn, ISO 7064 MOD 11-2, dates, allocated ranges.
//! - [`numbers`]: mobile phones, resident IDs, bank cards in any grouping.
//! - [`keys`]: what the key in front of a value says (`msgid=`, `<MsgId>`, `card_no:`).
//! - [`email`]: addresses, their local part read backwards.
//! - [`credentials`]: values after credential keys, chat passwords, URL, DSN and command-line passwords,
//!   session cookies.
//! - [`tokens`]: self-identifying tokens (JWT, `sk-`, bot tokens, webhook URLs) and PEM private keys.
//! - [`network`]: IPv4 (not versions), IPv6, IPv4-mapped IPv6.
//! - [`identity`]: chat-platform user ids decided by their key or shape, home-directory user names.
//! - [`names_addresses`]: Chinese names and postal addresses after a word that announces them.
//! - [`cues`]: landlines, passports, QQ numbers, WeChat ids, plates and birth dates after a word that names
//!   them.

pub mod checksums;
pub mod credentials;
pub mod cues;
pub mod email;
pub mod identity;
pub mod keys;
pub mod names_addresses;
pub mod network;
pub mod numbers;
pub mod tokens;

pub use super::patterns::Detector;
use super::patterns::Handler;
use super::text::{Cursor, MAX_LOOKBEHIND};

/// Where a detector may read and where its hits may start: the two limits of one decision.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub hay: &'a [u8],
    /// The lowest byte a detector may read (context): [`MAX_LOOKBEHIND`] before the candidate, so that a
    /// decision never depends on how much input came before.
    pub read_floor: usize,
    /// The earliest byte a hit may start at: bytes before it were already written.
    pub emit_floor: usize,
}

impl<'a> Context<'a> {
    /// The context of a candidate starting at `start` while scanning from `emit_floor`.
    pub fn new(hay: &'a [u8], start: usize, emit_floor: usize) -> Self {
        Context {
            hay,
            read_floor: start.saturating_sub(MAX_LOOKBEHIND),
            emit_floor,
        }
    }

    /// A cursor at `at` that reads no lower than the read floor.
    pub fn cursor(&self, at: usize) -> Cursor<'a> {
        Cursor::new(self.hay, at, self.read_floor)
    }
}

/// Which detectors are on, and what the engine was told (redaction reads no clock).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub on: [bool; Detector::COUNT],
    /// Birth dates after this year are not real.
    pub max_birth_year: u32,
}

impl Settings {
    pub fn on(&self, d: Detector) -> bool {
        self.on[d.index()]
    }
}

/// One detection: `[start, end)`; `core` is where the part that identifies a person starts (after a `+86`
/// prefix), used by `mask` and `hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub core: usize,
    pub det: Detector,
}

impl Found {
    pub fn new(det: Detector, start: usize, end: usize) -> Found {
        Found {
            start,
            end,
            core: start,
            det,
        }
    }
}

/// A PEM block that runs past the end of the data seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PemCarry {
    pub open: bool,
    /// Bytes of the block seen so far.
    pub bytes: usize,
}

/// Decides on the candidate `[start, end)` found by a built-in pattern of `handler`: pushes its detections
/// (of enabled detectors only) to `out` and returns where the search resumes when there are none.
pub fn detect(
    handler: Handler,
    ctx: &Context,
    start: usize,
    end: usize,
    settings: &Settings,
    pem: &mut PemCarry,
    out: &mut Vec<Found>,
) -> usize {
    let before = out.len();
    let resume = match handler {
        Handler::Numeric => numbers::detect(ctx, start, settings, out),
        Handler::EmailAnchor => email::detect(ctx, start, out),
        Handler::Ipv4 => network::detect_ipv4(ctx, start, end, out),
        Handler::Ipv6 => network::detect_ipv6(ctx, start, out),
        Handler::PemBlock => tokens::detect_pem(ctx, start, end, pem, out),
        Handler::TokenFormat => tokens::detect_format(ctx, start, end, out),
        Handler::BotToken => tokens::detect_bot_token(ctx, start, end, out),
        Handler::WebhookPath => tokens::detect_webhook_path(ctx, end, out),
        Handler::IdentityKey => identity::detect_key(ctx, start, end, settings, out),
        Handler::LarkUserId => identity::detect_lark(ctx, start, out),
        Handler::Mention => identity::detect_mention(ctx, start, out),
        Handler::SenderPhrase => identity::detect_sender_phrase(ctx, end, out),
        Handler::HomeDir => identity::detect_home(ctx, start, end, out),
        Handler::ContextCue => cues::detect(ctx, start, settings, out),
        Handler::Wxid => cues::detect_wxid(ctx, start, out),
        Handler::NameAddressCue => names_addresses::detect(ctx, start, out),
        Handler::Keyword
        | Handler::Bearer
        | Handler::ChatPassword
        | Handler::UrlAuthority
        | Handler::GoDsn
        | Handler::CliPassword
        | Handler::Cookie => credentials::detect(handler, ctx, start, end, out),
    };
    // Hits of disabled detectors are dropped (the DFA holds every built-in pattern).
    let mut i = before;
    while i < out.len() {
        if settings.on(out[i].det) {
            i += 1;
        } else {
            out.remove(i);
        }
    }
    resume
}

/// A user pattern whose type is a built-in detector's, with `validate`: the span `[start, end)` it matched is
/// taken when the built-in detector would take the same value there (checksums, ranges, boundaries and the
/// key in front: a `\d{16,19}` pattern keeps message ids that pass Luhn, as the built-in detector does).
/// Returns the span to redact and its core.
pub fn validate_user_match(
    det: Detector,
    ctx: &Context,
    start: usize,
    end: usize,
    settings: &Settings,
) -> Option<(usize, usize, usize)> {
    match det {
        Detector::Phone | Detector::IdCard | Detector::BankCard => {
            numbers::validate_span(ctx, start, end, det, settings)
        }
        Detector::Email => email::validate_span(ctx, start, end),
        Detector::Ipv4 => network::ipv4_valid(ctx, start, end).then_some((start, end, start)),
        Detector::Ipv6 => network::ipv6_valid(ctx, start, end).then_some((start, end, start)),
        Detector::Secret
        | Detector::Password
        | Detector::UserId
        | Detector::Qq
        | Detector::HomeUser
        | Detector::Landline
        | Detector::Passport
        | Detector::WechatId
        | Detector::Plate
        | Detector::BirthDate
        | Detector::PersonName
        | Detector::Address => Some((start, end, start)),
    }
}
