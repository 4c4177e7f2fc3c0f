//! The engine: every enabled pattern, built-in and user-given, compiled (by `compile`) into ONE multi-pattern
//! dense DFA that runs over raw bytes; the search loop (a skip over bytes that cannot start a candidate, the
//! reverse DFA for starts), the detectors' decisions on candidates, and the region algorithm that applies
//! the actions.

use regex_automata::dfa::Automaton;
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_automata::{Anchored, Input, PatternID};

use super::actions::{Action, ActionKind, HashKey};
use super::detect::{self, tokens, Context, Detector, Found, PemCarry, Settings};
use super::dfa_build::Dfa;
use super::patterns::Handler;
use super::Findings;
use regex_automata::dfa::dense;

/// How far before its DFA candidate a hit can begin (an e-mail local part is at most 64 characters, a
/// DSN password before `@tcp(` at most 256 bytes).
const REACH_BACK: usize = 64 * 4 + 16;

/// A region is cut (at line starts) into at most this many lanes, whose DFA searches run interleaved on one
/// thread: one DFA step waits for the load of the step before it, and the steps of independent lanes fill
/// that wait (three lanes: the search runs 1.7x faster on sparse text, 2.1x on dense; see
/// [`Engine::find_lanes`]).
pub const MAX_LANES: usize = 3;

/// Input per lane at least: below it a region is one lane.
const LANE_MIN_BYTES: usize = 4 << 10;

thread_local! {
    /// Output buffers of the lanes after the first, reused by the regions this thread redacts.
    static LANE_OUTS: std::cell::RefCell<[Vec<u8>; MAX_LANES]> = Default::default();
}

/// Where a forward search stands: the next byte, the DFA state before it, and the last match seen.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    at: usize,
    sid: StateID,
    found: Option<(usize, usize)>,
}

/// One region's scan between candidates (see [`Engine::scan`]): where it goes on from, how far its hits
/// reached, and whether it is over.
#[derive(Debug)]
struct Scan {
    pos: usize,
    to: usize,
    reach: usize,
    done: bool,
}

/// One region's redaction between hits (see [`Engine::redact_region`]): the input offset up to which the
/// output is written, the start of the current line in the output, and a line being dropped.
#[derive(Debug)]
struct Emit {
    to: usize,
    floor: usize,
    line_out: usize,
    line_began_here: bool,
    drop_to: Option<usize>,
    drop_rest: Option<bool>,
    scratch: Vec<u8>,
}

/// Where a DFA pattern came from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Source {
    Builtin(Handler),
    User { index: usize },
}

#[derive(Debug, Clone)]
pub(super) struct UserInfo {
    pub(super) type_id: usize,
    pub(super) action: usize,
    /// The built-in detector that decides on this pattern's matches (`validate`).
    pub(super) validator: Option<Detector>,
}

/// One detection: `[start, end)` in the haystack; `core` is where the part that identifies a person starts
/// (after a +86 prefix), used by `mask` and `hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub core: usize,
    pub type_id: usize,
    action: usize,
    /// The rest of a hit that began in an earlier region (a PEM block): its replacement is written already.
    continues: bool,
}

impl Hit {
    fn builtin(f: &Found) -> Hit {
        Hit {
            start: f.start,
            end: f.end,
            core: f.core,
            type_id: f.det.index(),
            action: f.det.index(),
            continues: false,
        }
    }
}

/// State carried from one region of a stream to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkState {
    /// Inside a PEM private-key block that began in an earlier region.
    pem: PemCarry,
    /// The rest of the current line is dropped (a `drop_line` hit in an earlier part of a very long line).
    drop_rest_of_line: bool,
    /// ... and part of that line was already written, so its line ending is kept.
    drop_rest_keeps_ending: bool,
}

/// A DFA as the engine holds it: the built-in patterns' in place in the binary (validated, never copied: a
/// copy would double the largest part of the process's memory), or one built or loaded at run time.
#[derive(Debug)]
pub(super) enum EngineDfa {
    Builtin(dense::DFA<&'static [u32]>),
    Owned(Dfa),
}

/// Runs `$body` with `$d` bound to the DFA inside `$dfa`, whichever it is (the body is compiled for each).
macro_rules! with_dfa {
    ($dfa:expr, $d:ident => $body:expr) => {
        match $dfa {
            EngineDfa::Builtin($d) => $body,
            EngineDfa::Owned($d) => $body,
        }
    };
}
pub(super) use with_dfa;

/// The compiled redaction engine: immutable, shareable between threads.
#[derive(Debug)]
pub struct Engine {
    pub(super) fwd: EngineDfa,
    pub(super) rev: EngineDfa,
    pub(super) sources: Vec<Source>,
    pub(super) users: Vec<UserInfo>,
    pub(super) types: Vec<String>,
    pub(super) actions: Vec<Action>,
    /// Which built-in detectors are on; the latest real birth year.
    pub(super) settings: Settings,
    pub(super) hash_key: Option<HashKey>,
    /// Index of the first user pattern in the DFA (the built-in ones come first).
    pub(super) first_user: usize,
    /// Index of the built-in Numeric pattern in the DFA.
    pub(super) numeric: Option<usize>,
    /// Bytes at which some pattern can start.
    pub(super) can_start: [bool; 256],
    /// The unanchored start state after each possible previous byte, and at the start of input.
    pub(super) start_after: Vec<StateID>,
    pub(super) start_none: StateID,
    /// Per pattern: bytes it can start with (to try other patterns where a candidate failed).
    pub(super) first_bytes: Vec<[u64; 4]>,
    /// The lowest start state's id: the forward DFA's states below it are the dead, quit and match states
    /// (the only ones a lane stops at, see [`Engine::find_lanes`]); 0 when that does not hold.
    pub(super) lane_stop: usize,
    /// How many lanes a region is cut into at most (see [`Engine::redact_region`]).
    pub(super) lanes: usize,
    /// The patterns as compiled, for `config check`.
    pub(super) descriptions: Vec<PatternDescription>,
}

/// What [`Engine::pseudonym`] gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pseudonym {
    /// `[type:hex8]`.
    pub token: Vec<u8>,
    /// Whether this engine's action for the type is `hash` (else redaction writes no such token).
    pub hashed: bool,
}

/// Why [`Engine::pseudonym`] gives no token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PseudonymError {
    UnknownType { known: Vec<String> },
    NoKey,
}

/// One compiled pattern, as `config check` shows it.
#[derive(Debug, Clone)]
pub struct PatternDescription {
    pub type_name: String,
    pub origin: String,
    pub action: String,
}

impl Engine {
    /// Type names by type id (built-in detectors first, then user types).
    pub fn type_names(&self) -> &[String] {
        &self.types
    }

    /// The compiled patterns, for `config check`.
    pub fn descriptions(&self) -> &[PatternDescription] {
        &self.descriptions
    }

    /// The bytes at which a candidate can start (the others are skipped without running the DFA).
    pub fn start_bytes(&self) -> Vec<u8> {
        (0..=255u8)
            .filter(|&b| self.can_start[usize::from(b)])
            .collect()
    }

    /// Memory used by the forward and reverse DFAs.
    pub fn dfa_bytes(&self) -> (usize, usize) {
        (
            with_dfa!(&self.fwd, d => d.memory_usage()),
            with_dfa!(&self.rev, d => d.memory_usage()),
        )
    }

    /// Sets how many lanes a region is cut into at most (1 to [`MAX_LANES`]; 1: none): the output is the same
    /// bytes whatever the lanes (tests compare them, benches time them).
    pub fn set_lanes(&mut self, lanes: usize) {
        self.lanes = lanes.clamp(1, MAX_LANES);
    }

    pub fn pattern_count(&self) -> usize {
        self.sources.len()
    }

    /// The token the `hash` action writes for one `value` of type `type_name` with this engine's key, made
    /// exactly as redaction makes it ([`super::actions::write_token`]): the value is normalized as the
    /// type's detector normalizes it (full-width digits, `\u` escapes, case of an e-mail address, ...), and
    /// where this engine itself finds the value as that type, only the part it hashes counts (a `+86`
    /// prefix is not part of a phone number's token). Err: the type is unknown (the message lists the
    /// known ones), or there is no key.
    pub fn pseudonym(&self, type_name: &str, value: &[u8]) -> Result<Pseudonym, PseudonymError> {
        let Some(type_id) = self.types.iter().position(|t| t == type_name) else {
            return Err(PseudonymError::UnknownType {
                known: self.types.clone(),
            });
        };
        let Some(key) = self.hash_key.as_ref() else {
            return Err(PseudonymError::NoKey);
        };
        let of_type = || self.actions.iter().filter(|a| a.type_id == type_id);
        let det = of_type().find_map(|a| a.det);
        let hashed = of_type().any(|a| a.kind == ActionKind::Hash);
        let mut core = 0;
        let mut st = ChunkState::default();
        self.scan(value, 0, value.len(), &mut st, |h| {
            if h.type_id == type_id && h.start == 0 && h.end == value.len() {
                core = h.core;
            }
            h.end
        });
        let mut token = Vec::new();
        super::actions::write_token(
            det,
            value,
            (core, value.len()),
            type_name,
            Some(key),
            &mut token,
            &mut Vec::new(),
        );
        Ok(Pseudonym { token, hashed })
    }

    /// A fresh [`Findings`] sized for this engine's types.
    pub fn new_findings(&self) -> Findings {
        Findings {
            counts: vec![0; self.types.len()],
            lines_dropped: 0,
        }
    }

    #[inline]
    fn start_at(&self, hay: &[u8], at: usize) -> StateID {
        if at == 0 {
            self.start_none
        } else {
            self.start_after[usize::from(hay[at - 1])]
        }
    }

    #[inline]
    fn skip(&self, hay: &[u8], mut at: usize, to: usize) -> usize {
        let can = &self.can_start;
        // Four bytes per step while none of them can start a candidate.
        while at + 4 <= to {
            let w = &hay[at..at + 4];
            if can[usize::from(w[0])]
                | can[usize::from(w[1])]
                | can[usize::from(w[2])]
                | can[usize::from(w[3])]
            {
                break;
            }
            at += 4;
        }
        while at < to && !can[usize::from(hay[at])] {
            at += 1;
        }
        at
    }

    /// Leftmost-first forward search over `hay[from..]` (the bytes before `from` are look-behind context):
    /// the pattern and end of the first match. Bytes that cannot start a match are skipped while the DFA is
    /// in a start state.
    fn find_fwd(&self, hay: &[u8], from: usize) -> Option<(usize, usize)> {
        with_dfa!(&self.fwd, d => self.find_fwd_in(d, hay, self.cursor_at(hay, from)))
    }

    /// A search that begins at `from` (past the bytes there that cannot start a candidate).
    #[inline]
    fn cursor_at(&self, hay: &[u8], from: usize) -> Cursor {
        let at = self.skip(hay, from, hay.len());
        Cursor {
            at,
            sid: self.start_at(hay, at),
            found: None,
        }
    }

    #[inline(always)]
    fn find_fwd_in<A: Automaton>(
        &self,
        dfa: &A,
        hay: &[u8],
        cur: Cursor,
    ) -> Option<(usize, usize)> {
        let to = hay.len();
        let Cursor {
            mut at,
            mut sid,
            mut found,
        } = cur;
        while at < to {
            // Four transitions per round while none of them reaches a special state.
            while at + 4 <= to {
                let s0 = dfa.next_state(sid, hay[at]);
                if dfa.is_special_state(s0) {
                    break;
                }
                let s1 = dfa.next_state(s0, hay[at + 1]);
                if dfa.is_special_state(s1) {
                    sid = s0;
                    at += 1;
                    break;
                }
                let s2 = dfa.next_state(s1, hay[at + 2]);
                if dfa.is_special_state(s2) {
                    sid = s1;
                    at += 2;
                    break;
                }
                let s3 = dfa.next_state(s2, hay[at + 3]);
                if dfa.is_special_state(s3) {
                    sid = s2;
                    at += 3;
                    break;
                }
                sid = s3;
                at += 4;
            }
            if at >= to {
                break;
            }
            sid = dfa.next_state(sid, hay[at]);
            if dfa.is_special_state(sid) {
                if dfa.is_start_state(sid) {
                    let next = self.skip(hay, at + 1, to);
                    if next != at + 1 {
                        sid = self.start_at(hay, next);
                    }
                    at = next;
                    continue;
                } else if dfa.is_match_state(sid) {
                    found = Some((dfa.match_pattern(sid, 0).as_usize(), at));
                } else if dfa.is_dead_state(sid) || dfa.is_quit_state(sid) {
                    return found;
                }
            }
            at += 1;
        }
        sid = dfa.next_eoi_state(sid);
        if dfa.is_match_state(sid) {
            found = Some((dfa.match_pattern(sid, 0).as_usize(), to));
        }
        found
    }

    /// The searches of several lanes, one step of each in turn, until one of them ends (the dead or the
    /// quit state, or the end of `hay`): that lane's slot and its candidate, as [`Engine::find_fwd`] gives
    /// it; the other cursors stand where they are, to go on later. The steps of one lane depend on each
    /// other (each waits for the transition table's load of the last), those of different lanes do not, so
    /// they overlap. No skip: a lane goes through the start states as through any other (its steps stay
    /// free of branches the processor cannot predict), and stops only at states below `lane_stop`.
    #[inline(always)]
    fn find_lanes<A: Automaton, const N: usize>(
        &self,
        dfa: &A,
        hay: &[u8],
        curs: &mut [Cursor; N],
    ) -> (usize, Option<(usize, usize)>) {
        let to = hay.len();
        let stop = self.lane_stop;
        loop {
            // As many steps as every lane has bytes for, with one test per round of whether any lane
            // reached a state below `stop` (rare: a match, or the end of a candidate).
            let k = curs.iter().map(|c| to - c.at).min().unwrap_or(0);
            if k == 0 {
                // A lane at the end of `hay`.
                let i = curs.iter().position(|c| c.at >= to).unwrap_or(0);
                let c = &mut curs[i];
                let sid = dfa.next_eoi_state(c.sid);
                if dfa.is_match_state(sid) {
                    c.found = Some((dfa.match_pattern(sid, 0).as_usize(), to));
                }
                return (i, c.found);
            }
            let bytes: [&[u8]; N] = std::array::from_fn(|j| &hay[curs[j].at..curs[j].at + k]);
            let mut sids: [StateID; N] = std::array::from_fn(|j| curs[j].sid);
            let mut steps = k;
            // Column `i` of every lane in turn: the steps of one round are independent of each other.
            #[allow(clippy::needless_range_loop)]
            for i in 0..k {
                let mut any = false;
                for j in 0..N {
                    sids[j] = dfa.next_state(sids[j], bytes[j][i]);
                    any |= sids[j].as_usize() < stop;
                }
                if any {
                    steps = i + 1;
                    break;
                }
            }
            // Every lane took `steps` steps; the last one may have reached a match, dead or quit state.
            let mut ended = None;
            for (j, c) in curs.iter_mut().enumerate() {
                c.sid = sids[j];
                c.at += steps;
                if sids[j].as_usize() < stop {
                    if dfa.is_match_state(sids[j]) {
                        c.found = Some((dfa.match_pattern(sids[j], 0).as_usize(), c.at - 1));
                    } else if ended.is_none() {
                        ended = Some(j);
                    }
                }
            }
            if let Some(j) = ended {
                return (j, curs[j].found);
            }
        }
    }

    /// Where the match of `pid` that ends at `end` starts (reverse DFA, anchored at `end`, not below `lo`):
    /// the search `try_search_rev` makes, without its set-up per call. `lo` when there is none.
    fn find_start(&self, hay: &[u8], lo: usize, end: usize, pid: usize) -> usize {
        with_dfa!(&self.rev, d => Self::find_start_in(d, hay, lo, end, pid))
    }

    #[inline(always)]
    fn find_start_in<A: Automaton>(
        rev: &A,
        hay: &[u8],
        lo: usize,
        end: usize,
        pid: usize,
    ) -> usize {
        let cfg = start::Config::new()
            .anchored(Anchored::Pattern(PatternID::new_unchecked(pid)))
            .look_behind(hay.get(end).copied());
        let Ok(mut sid) = rev.start_state(&cfg) else {
            return lo;
        };
        let mut start = None;
        let mut at = end;
        while at > lo {
            at -= 1;
            sid = rev.next_state(sid, hay[at]);
            if rev.is_special_state(sid) {
                if rev.is_match_state(sid) {
                    // Matches are reported one byte late: this one starts after `at`.
                    start = Some(at + 1);
                } else if rev.is_dead_state(sid) {
                    return start.unwrap_or(lo);
                } else if rev.is_quit_state(sid) {
                    return lo;
                }
            }
        }
        // The byte before the range, or the start of the haystack, settles a match that starts at `lo`.
        sid = match lo.checked_sub(1) {
            Some(b) => rev.next_state(sid, hay[b]),
            None => rev.next_eoi_state(sid),
        };
        if rev.is_match_state(sid) {
            start = Some(lo);
        } else if rev.is_quit_state(sid) {
            return lo;
        }
        start.unwrap_or(lo)
    }

    /// Anchored search of one pattern at `at`: its match end.
    fn match_at(&self, hay: &[u8], at: usize, pid: usize) -> Option<usize> {
        let b = hay[at];
        if self.first_bytes[pid][usize::from(b >> 6)] & (1 << (b & 63)) == 0 {
            return None;
        }
        let input = Input::new(hay)
            .range(at..)
            .anchored(Anchored::Pattern(PatternID::new_unchecked(pid)));
        with_dfa!(&self.fwd, d => d.try_search_fwd(&input))
            .ok()
            .flatten()
            .map(|hm| hm.offset())
    }

    /// Decides on the candidate `[start, end)` of pattern `pid`, scanning from `emit_floor`: the hits in it
    /// (pushed to `hits`) and where the search resumes when there are none.
    fn decide(
        &self,
        hay: &[u8],
        pid: usize,
        (start, end): (usize, usize),
        emit_floor: usize,
        st: &mut ChunkState,
        (hits, found): (&mut Vec<Hit>, &mut Vec<Found>),
    ) -> usize {
        let ctx = Context::new(hay, start, emit_floor);
        match self.sources[pid] {
            Source::Builtin(handler) => {
                found.clear();
                let resume = detect::detect(
                    handler,
                    &ctx,
                    start,
                    end,
                    &self.settings,
                    &mut st.pem,
                    found,
                );
                hits.extend(found.iter().map(Hit::builtin));
                resume
            }
            Source::User { index } => {
                let u = &self.users[index];
                let span = match u.validator {
                    None => Some((start, end, start)),
                    Some(d) => detect::validate_user_match(d, &ctx, start, end, &self.settings),
                };
                if let Some((s, e, core)) = span {
                    hits.push(Hit {
                        start: s,
                        end: e,
                        core,
                        type_id: u.type_id,
                        action: u.action,
                        continues: false,
                    });
                }
                start + 1
            }
        }
    }

    /// Scans `hay[from..to]` and calls `on_hit` for each detection, in order. Bytes before `from` are context
    /// only; bytes after `to` may be looked at and may be covered by a hit that starts before `to`. `on_hit`
    /// returns where scanning continues (at least the hit's end). Returns the offset scanning stopped at.
    pub fn scan<F>(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        st: &mut ChunkState,
        mut on_hit: F,
    ) -> usize
    where
        F: FnMut(&Hit) -> usize,
    {
        let mut sc = self.scan_begin(hay, from, to, st, &mut on_hit);
        let (mut hits, mut found) = (Vec::new(), Vec::new());
        while !sc.done {
            let cand = self.find_fwd(hay, sc.pos);
            self.scan_feed(hay, &mut sc, cand, st, (&mut hits, &mut found), &mut on_hit);
        }
        sc.reach
    }

    /// The start of [`Engine::scan`]: the rest of a PEM block that began in an earlier region.
    fn scan_begin<F>(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        st: &mut ChunkState,
        on_hit: &mut F,
    ) -> Scan
    where
        F: FnMut(&Hit) -> usize,
    {
        let mut pos = from;
        let mut reach = to;
        if st.pem.open {
            st.pem.open = false;
            let limit = hay
                .len()
                .min(from + tokens::PEM_MAX_BYTES.saturating_sub(st.pem.bytes));
            let (e, complete) = tokens::pem_body_end(hay, from, limit);
            if !complete && limit == hay.len() && e > from {
                st.pem.open = true;
                st.pem.bytes += e - from;
            }
            if e > from && self.settings.on(Detector::Secret) {
                pos = on_hit(&Hit {
                    continues: true,
                    ..Hit::builtin(&Found::new(Detector::Secret, from, e))
                });
                reach = reach.max(pos);
            }
        }
        Scan {
            pos,
            to,
            reach,
            done: self.sources.is_empty() || pos >= to,
        }
    }

    /// One step of [`Engine::scan`]: decides on the candidate the search from `sc.pos` gave (None: there is
    /// none), reports its hits and moves `sc` on.
    fn scan_feed<F>(
        &self,
        hay: &[u8],
        sc: &mut Scan,
        cand: Option<(usize, usize)>,
        st: &mut ChunkState,
        (hits, found): (&mut Vec<Hit>, &mut Vec<Found>),
        on_hit: &mut F,
    ) where
        F: FnMut(&Hit) -> usize,
    {
        let (mut pos, to) = (sc.pos, sc.to);
        let Some((pid, mend)) = cand else {
            sc.done = true;
            return;
        };
        let start = self.find_start(hay, pos, mend, pid);
        // A candidate past the cut belongs to the next region, unless its hit can begin before the
        // cut: an address's local part, a DSN password before `@tcp(`, a number's e-mail local part.
        let beyond = start >= to;
        let reaches_back = matches!(
            self.sources[pid],
            Source::Builtin(Handler::EmailAnchor | Handler::GoDsn | Handler::Numeric)
        );
        if beyond && (!reaches_back || start >= to + REACH_BACK) {
            sc.done = true;
            return;
        }
        hits.clear();
        let mut resume = self.decide(hay, pid, (start, mend), pos, st, (hits, found));
        if beyond {
            hits.retain(|h| h.start < to);
            if hits.is_empty() {
                sc.done = true;
                return;
            }
        }
        if hits.is_empty() {
            // Another pattern may match at the same start (a user pattern, say): lower priority only,
            // since the DFA already preferred `pid` over the ones before it. Of the built-in patterns only
            // Numeric shares its first bytes with higher ones (a bot token's or an address's digits).
            let numeric = match self.sources[pid] {
                Source::Builtin(Handler::BotToken | Handler::Ipv4) => self.numeric,
                _ => None,
            };
            let others = numeric
                .into_iter()
                .chain(self.first_user.max(pid + 1)..self.sources.len());
            for other in others {
                if let Some(e) = self.match_at(hay, start, other) {
                    let r = self.decide(hay, other, (start, e), pos, st, (hits, found));
                    if !hits.is_empty() {
                        resume = r;
                        break;
                    }
                }
            }
        }
        let mut next = resume.max(start + 1);
        for h in hits.iter() {
            if h.start < pos {
                continue;
            }
            pos = on_hit(h).max(h.end);
            next = next.max(pos);
            sc.reach = sc.reach.max(pos);
        }
        // Past `to`, only what hits covered is done: bytes a failed candidate ran over are scanned again
        // with the next region.
        sc.pos = next;
        sc.done = next >= to;
    }

    /// Redacts `hay[from..to]` into `out` (see [`Engine::scan`] for the contract). Returns the input offset
    /// up to which output was written (at least `to`; more when a hit ran past `to`).
    ///
    /// A region of many lines is cut at line starts into lanes ([`MAX_LANES`] at most) whose searches run
    /// interleaved ([`Engine::find_lanes`]), each lane redacted into its own output from the state a region
    /// has at a line start. The outputs are joined in order; where a lane did not end exactly at the next
    /// one's start in that state (a PEM block or a dropped line going on past its end: rare), the rest of
    /// the region is redacted again, in one lane, from where and how the lane before really ended. The
    /// output is the same bytes whatever the lanes.
    pub fn redact_region(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        st: &mut ChunkState,
        out: &mut Vec<u8>,
        findings: &mut Findings,
    ) -> usize {
        let lanes = if self.lane_stop == 0 || self.sources.is_empty() {
            1
        } else {
            self.lanes.min((to.saturating_sub(from)) / LANE_MIN_BYTES)
        };
        if lanes >= 2 && *st == ChunkState::default() {
            return self.redact_lanes(hay, from, to, lanes, st, out, findings);
        }
        self.redact_one(hay, from, to, st, out, findings)
    }

    /// [`Engine::redact_region`] in one lane.
    fn redact_one(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        st: &mut ChunkState,
        out: &mut Vec<u8>,
        findings: &mut Findings,
    ) -> usize {
        let Some(mut e) = self.emit_begin(hay, from, to, st, out, findings) else {
            return to;
        };
        let floor = e.floor;
        let end = self.scan(hay, floor, to, st, |h| {
            self.emit_hit(hay, &mut e, out, findings, h)
        });
        self.emit_end(hay, e, end, st, out)
    }

    /// [`Engine::redact_region`] in up to `lanes` lanes, from the state at a line start.
    #[allow(clippy::too_many_arguments)]
    fn redact_lanes(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        lanes: usize,
        st: &mut ChunkState,
        out: &mut Vec<u8>,
        findings: &mut Findings,
    ) -> usize {
        const { assert!(MAX_LANES == 3) };
        // Lane i is `starts[i]..starts[i + 1]` (the last one ends at `to`).
        let mut starts = [from; MAX_LANES + 1];
        let mut n = 1;
        for k in 1..lanes.min(MAX_LANES) {
            let target = (from + k * (to - from) / lanes).max(starts[n - 1]);
            match memchr::memchr(b'\n', &hay[target..to]) {
                Some(i) if target + i + 1 < to => {
                    starts[n] = target + i + 1;
                    n += 1;
                }
                _ => break,
            }
        }
        if n < 2 {
            return self.redact_one(hay, from, to, st, out, findings);
        }
        // Lanes past `n` are empty (never searched, never joined).
        starts[n..].fill(to);
        // The other lanes' outputs go to this thread's buffers, kept from one region to the next.
        let mut outs: [Vec<u8>; MAX_LANES] =
            LANE_OUTS.with(|b| std::mem::take(&mut *b.borrow_mut()));
        outs[0] = std::mem::take(out);
        let mut finds: [Findings; MAX_LANES] = std::array::from_fn(|i| match i {
            0 => std::mem::take(findings),
            _ => self.new_findings(),
        });
        self.fit(&mut finds[0]);
        let mut sts: [ChunkState; MAX_LANES] = Default::default();
        let mut emits: [Emit; MAX_LANES] =
            std::array::from_fn(|i| Emit::new(hay, starts[i], starts[i + 1], outs[i].len()));
        let mut scans: [Scan; MAX_LANES] = std::array::from_fn(|i| Scan {
            pos: starts[i],
            to: starts[i + 1],
            reach: starts[i + 1],
            done: false,
        });
        let mut curs: [Cursor; MAX_LANES] = std::array::from_fn(|i| self.cursor_at(hay, starts[i]));
        // The lane searching in each slot; slots `..live` are searching.
        let mut lane_of: [usize; MAX_LANES] = std::array::from_fn(|i| i);
        let mut live = n;
        let (mut hits, mut found) = (Vec::new(), Vec::new());
        while live > 0 {
            let (slot, cand) = with_dfa!(&self.fwd, d => match live {
                1 => (0, self.find_fwd_in(d, hay, curs[0])),
                2 => match curs.first_chunk_mut::<2>() {
                    Some(two) => self.find_lanes(d, hay, two),
                    None => unreachable!(),
                },
                _ => self.find_lanes(d, hay, &mut curs),
            });
            let lane = lane_of[slot];
            let (e, o, f) = (&mut emits[lane], &mut outs[lane], &mut finds[lane]);
            self.scan_feed(
                hay,
                &mut scans[lane],
                cand,
                &mut sts[lane],
                (&mut hits, &mut found),
                &mut |h| self.emit_hit(hay, e, o, f, h),
            );
            if scans[lane].done {
                live -= 1;
                curs[slot] = curs[live];
                lane_of[slot] = lane_of[live];
            } else {
                curs[slot] = self.cursor_at(hay, scans[lane].pos);
            }
        }
        // Join the lanes in order: lane 0 went on from `st`, `out` and `findings`; each next one is taken
        // when the lane before it ended at its start in the state of a line start.
        let mut stop = to;
        let lanes = emits
            .into_iter()
            .zip(scans)
            .zip(&mut outs)
            .zip(sts)
            .zip(finds);
        for (i, ((((e, sc), o), mut s), f)) in lanes.take(n).enumerate() {
            if i == 0 {
                stop = self.emit_end(hay, e, sc.reach, &mut s, o);
                (*out, *st, *findings) = (std::mem::take(o), s, f);
            } else if stop == starts[i] && *st == ChunkState::default() {
                stop = self.emit_end(hay, e, sc.reach, &mut s, o);
                out.extend_from_slice(o);
                findings.add(&f);
                *st = s;
            } else {
                if stop < to {
                    stop = self.redact_one(hay, stop, to, st, out, findings);
                }
                break;
            }
        }
        for o in &mut outs {
            o.clear();
        }
        LANE_OUTS.with(|b| *b.borrow_mut() = outs);
        stop
    }

    /// The start of [`Engine::redact_region`]: the rest of a line being dropped since an earlier region is
    /// passed over (None: all of the region is).
    fn emit_begin(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        st: &mut ChunkState,
        out: &mut Vec<u8>,
        findings: &mut Findings,
    ) -> Option<Emit> {
        let mut floor = from;
        if st.drop_rest_of_line {
            let i = memchr::memchr(b'\n', &hay[from..to])?;
            let nl = from + i;
            floor = nl + 1;
            st.drop_rest_of_line = false;
            if st.drop_rest_keeps_ending {
                let cr = nl > 0 && hay[nl - 1] == b'\r';
                out.extend_from_slice(if cr { b"\r\n" } else { b"\n" });
            }
        }
        self.fit(findings);
        Some(Emit::new(hay, floor, to, out.len()))
    }

    /// Makes `findings` (the caller's, perhaps from before this engine) hold a count for each of its types.
    fn fit(&self, findings: &mut Findings) {
        if findings.counts.len() < self.types.len() {
            findings.counts.resize(self.types.len(), 0);
        }
    }

    /// Writes one hit (and the gap before it) to `out`: its replacement, or nothing for a dropped line.
    /// Returns where scanning continues.
    fn emit_hit(
        &self,
        hay: &[u8],
        e: &mut Emit,
        out: &mut Vec<u8>,
        findings: &mut Findings,
        h: &Hit,
    ) -> usize {
        let to = e.to;
        let action = &self.actions[h.action];
        if let Some(d) = e.drop_to {
            if h.start < d {
                return d;
            }
        }
        if h.continues && action.kind != ActionKind::DropLine {
            // Counted, and replaced, where it began: the output does not depend on where the input
            // was cut into regions. (Allowed, its text is written as it is.)
            if action.kind != ActionKind::Allow {
                e.floor = h.end;
            }
            return h.end;
        }
        findings.counts[h.type_id] += 1;
        if action.kind == ActionKind::Allow {
            return h.end;
        }
        // Emit the gap, noting the last line start in it.
        let gap = &hay[e.floor..h.start];
        if let Some(nl) = memchr::memrchr(b'\n', gap) {
            e.line_out = out.len() + nl + 1;
            e.line_began_here = true;
        }
        out.extend_from_slice(gap);
        e.floor = h.start;
        match action.kind {
            ActionKind::DropLine => {
                findings.lines_dropped += 1;
                out.truncate(e.line_out);
                match memchr::memchr(b'\n', &hay[h.end.min(to)..to]) {
                    Some(i) => {
                        let nl = h.end.min(to) + i;
                        e.floor = nl + 1;
                        if !e.line_began_here {
                            // Part of this line is already out: end it, or it runs into the next.
                            let cr = nl > 0 && hay[nl - 1] == b'\r';
                            out.extend_from_slice(if cr { b"\r\n" } else { b"\n" });
                        }
                    }
                    None => {
                        e.floor = to.max(h.end);
                        e.drop_rest = Some(!e.line_began_here);
                    }
                }
                e.line_out = out.len();
                e.line_began_here = true;
                e.drop_to = Some(e.floor);
                e.floor
            }
            _ => {
                let type_name = &self.types[action.type_id];
                let key = self.hash_key.as_ref();
                action.render(
                    hay,
                    (h.start, h.core, h.end),
                    type_name,
                    key,
                    out,
                    &mut e.scratch,
                );
                e.floor = h.end;
                h.end
            }
        }
    }

    /// The end of [`Engine::redact_region`]: the text after the last hit, up to `end` (where scanning
    /// stopped), and a line still being dropped. Returns the input offset written up to.
    fn emit_end(
        &self,
        hay: &[u8],
        e: Emit,
        end: usize,
        st: &mut ChunkState,
        out: &mut Vec<u8>,
    ) -> usize {
        if let Some(keep_ending) = e.drop_rest {
            st.drop_rest_of_line = true;
            st.drop_rest_keeps_ending = keep_ending;
        }
        let stop = end.max(e.floor);
        if e.floor < stop {
            out.extend_from_slice(&hay[e.floor..stop]);
        }
        stop
    }
}

impl Emit {
    /// Redaction of `hay[floor..to]`, whose output goes on at `out_len`.
    fn new(hay: &[u8], floor: usize, to: usize, out_len: usize) -> Emit {
        Emit {
            to,
            floor,
            line_out: out_len,
            line_began_here: floor == 0 || hay[floor - 1] == b'\n',
            drop_to: None,
            drop_rest: None,
            scratch: Vec::new(),
        }
    }
}
