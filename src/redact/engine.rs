//! The engine: every enabled pattern, built-in and user-given, compiled into ONE multi-pattern dense DFA that
//! runs over raw bytes, a skip over bytes that cannot start a candidate, validators on candidates, and the
//! actions that replace what was found.

use regex_automata::dfa::{dense, Automaton};
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_automata::{Anchored, Input, PatternID};

use super::actions::{mask_into, render_template, ActionKind, HashKey};
use super::dfa_build::BuildFailure;
use super::patterns::{detector_index, Handler, BUILTIN_DETECTORS, BUILTIN_PATTERNS};
use super::patterns::{BANK_CARD, EMAIL, ID_CARD, IPV4, IPV6, PASSWORD, PHONE, SECRET};
use super::user_regex;
use super::validators::{self as v, NumberHit, NumberKind, NumberKinds};
use super::{EngineConfig, EngineError, Findings};

/// How far before its DFA candidate a hit can begin (an e-mail local part is at most 64 characters).
const REACH_BACK: usize = 64 * 4 + 16;
/// A PEM block longer than this is cut (and the rest of it treated as text).
const PEM_MAX_BYTES: usize = 64 << 10;

use super::dfa_build::Dfa;

/// Where a DFA pattern came from.
#[derive(Debug, Clone, Copy)]
enum Source {
    Builtin(Handler),
    User { index: usize },
}

/// What to do with a detection: resolved from the config once.
#[derive(Debug, Clone)]
struct Action {
    kind: ActionKind,
    type_id: usize,
    replacement: Vec<u8>,
    keep: (usize, usize),
}

#[derive(Debug, Clone)]
struct UserInfo {
    type_id: usize,
    action: usize,
    /// The built-in detector whose validator checks this pattern's matches.
    validator: Option<usize>,
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

/// State carried from one region of a stream to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkState {
    /// Inside a PEM private-key block that began in an earlier region.
    in_pem: bool,
    pem_bytes: usize,
    /// The rest of the current line is dropped (a `drop_line` hit in an earlier part of a very long line).
    drop_rest_of_line: bool,
    /// ... and part of that line was already written, so its line ending is kept.
    drop_rest_keeps_ending: bool,
}

/// The compiled redaction engine: immutable, shareable between threads.
#[derive(Debug)]
pub struct Engine {
    fwd: Dfa,
    rev: Dfa,
    sources: Vec<Source>,
    users: Vec<UserInfo>,
    types: Vec<String>,
    actions: Vec<Action>,
    /// Built-in detector enabled flags, by detector index.
    builtin_on: [bool; 8],
    kinds: NumberKinds,
    hash_key: Option<HashKey>,
    /// Index of the first user pattern in the DFA (the built-in ones come first).
    first_user: usize,
    /// Bytes at which some pattern can start.
    can_start: [bool; 256],
    /// The unanchored start state after each possible previous byte, and at the start of input.
    start_after: Vec<StateID>,
    start_none: StateID,
    /// Per pattern: bytes it can start with (to try other patterns where a candidate failed).
    first_bytes: Vec<[u64; 4]>,
    /// The patterns as compiled, for `config check`.
    descriptions: Vec<PatternDescription>,
}

/// One compiled pattern, as `config check` shows it.
#[derive(Debug, Clone)]
pub struct PatternDescription {
    pub type_name: String,
    pub origin: String,
    pub action: String,
}

impl Engine {
    /// Compiles the enabled detectors and user patterns into one DFA.
    pub fn new(cfg: &EngineConfig) -> Result<Engine, EngineError> {
        let mut types: Vec<String> = BUILTIN_DETECTORS
            .iter()
            .map(|d| d.name.to_string())
            .collect();
        let mut builtin_on = [false; 8];
        let mut actions = Vec::new();
        let active = cfg.detection_enabled;
        for (i, det) in BUILTIN_DETECTORS.iter().enumerate() {
            let setting = cfg.detectors.iter().find(|s| s.name == det.name);
            builtin_on[i] = active && setting.is_none_or(|s| s.enabled);
            let spec = setting
                .map(|s| s.action.clone())
                .unwrap_or_else(super::actions::ActionSpec::redact);
            actions.push(resolve_action(&spec, i, det.name, det.mask_keep, cfg));
        }
        let mut regexes: Vec<String> = Vec::new();
        let mut sources = Vec::new();
        let mut descriptions = Vec::new();
        // All built-in patterns go into the DFA whenever one detector is on (hits of disabled detectors are
        // dropped): the DFA of the built-ins is then the one compiled into the binary.
        let any_builtin = builtin_on.iter().any(|&on| on);
        for bp in BUILTIN_PATTERNS.iter().filter(|_| any_builtin) {
            regexes.push(bp.regex.to_string());
            sources.push(Source::Builtin(bp.handler));
            let names: Vec<&str> = bp
                .detectors
                .iter()
                .copied()
                .filter(|d| detector_index(d).is_some_and(|i| builtin_on[i]))
                .collect();
            if names.is_empty() {
                continue;
            }
            let acts: Vec<&str> = names
                .iter()
                .map(|d| actions[detector_index(d).unwrap()].kind.name())
                .collect();
            descriptions.push(PatternDescription {
                type_name: names.join(","),
                origin: format!("built-in {:?}", bp.handler),
                action: acts.join(","),
            });
        }
        let mut users = Vec::new();
        if active {
            for p in cfg.patterns.iter().filter(|p| p.enabled) {
                let rewritten =
                    user_regex::prepare(&p.regex).map_err(|e| EngineError::InvalidPattern {
                        index: p.index,
                        type_name: p.kind.clone(),
                        message: e.message,
                        column: e.column,
                        hint: e.hint,
                    })?;
                let type_id = match types.iter().position(|t| *t == p.kind) {
                    Some(t) => t,
                    None => {
                        types.push(p.kind.clone());
                        types.len() - 1
                    }
                };
                let validator = if p.validate {
                    detector_index(&p.kind)
                } else {
                    None
                };
                let default_keep = validator
                    .map(|d| BUILTIN_DETECTORS[d].mask_keep)
                    .unwrap_or((0, 0));
                actions.push(resolve_action(
                    &p.action,
                    type_id,
                    &p.kind,
                    default_keep,
                    cfg,
                ));
                users.push(UserInfo {
                    type_id,
                    action: actions.len() - 1,
                    validator,
                });
                sources.push(Source::User {
                    index: users.len() - 1,
                });
                descriptions.push(PatternDescription {
                    type_name: p.kind.clone(),
                    origin: format!("patterns[{}] {}", p.index, p.regex),
                    action: p.action.kind.name().to_string(),
                });
                regexes.push(rewritten);
            }
        }
        if !cfg.redaction_enabled {
            for a in &mut actions {
                a.kind = ActionKind::Allow;
            }
        }
        let (fwd, rev) = if any_builtin && users.is_empty() {
            builtin_dfas()?
        } else {
            build_dfas(&regexes, cfg.dfa_store.as_deref())?
        };
        let first_user = sources
            .iter()
            .take_while(|s| matches!(s, Source::Builtin(_)))
            .count();
        let mut engine = Engine {
            fwd,
            rev,
            sources,
            users,
            types,
            actions,
            builtin_on,
            kinds: NumberKinds {
                phone: builtin_on[0],
                id_card: builtin_on[1],
                bank_card: builtin_on[2],
                max_birth_year: cfg.max_birth_year,
            },
            hash_key: cfg.hash_key.clone(),
            first_user,
            can_start: [false; 256],
            start_after: Vec::new(),
            start_none: StateID::ZERO,
            first_bytes: Vec::new(),
            descriptions,
        };
        engine.prepare_starts()?;
        Ok(engine)
    }

    /// Start states per look-behind byte, the set of bytes that can start a match, and per-pattern first bytes.
    fn prepare_starts(&mut self) -> Result<(), EngineError> {
        let start_for = |lb: Option<u8>| {
            self.fwd
                .start_state(&start::Config::new().anchored(Anchored::No).look_behind(lb))
                .map_err(|e| EngineError::Build(format!("start state: {e}")))
        };
        self.start_none = start_for(None)?;
        let mut after = Vec::with_capacity(256);
        for b in 0..=255u8 {
            after.push(start_for(Some(b))?);
        }
        let mut can = [false; 256];
        let mut contexts: Vec<StateID> = after.clone();
        contexts.push(self.start_none);
        contexts.sort();
        contexts.dedup();
        for b in 0..=255u8 {
            can[usize::from(b)] = contexts
                .iter()
                .any(|&s| self.fwd.next_state(s, b) != after[usize::from(b)]);
        }
        self.can_start = can;
        self.start_after = after;
        let mut first = Vec::with_capacity(self.sources.len());
        for pid in 0..self.sources.len() {
            let mut set = [0u64; 4];
            let cfg =
                start::Config::new().anchored(Anchored::Pattern(PatternID::new_unchecked(pid)));
            let mut starts = Vec::new();
            for lb in std::iter::once(None).chain((0..=255u8).map(Some)) {
                if let Ok(s) = self.fwd.start_state(&cfg.clone().look_behind(lb)) {
                    starts.push(s);
                }
            }
            starts.sort();
            starts.dedup();
            for b in 0..=255u8 {
                if starts
                    .iter()
                    .any(|&s| !self.fwd.is_dead_state(self.fwd.next_state(s, b)))
                {
                    set[usize::from(b >> 6)] |= 1 << (b & 63);
                }
            }
            first.push(set);
        }
        self.first_bytes = first;
        Ok(())
    }

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
        (self.fwd.memory_usage(), self.rev.memory_usage())
    }

    pub fn pattern_count(&self) -> usize {
        self.sources.len()
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
        let dfa = &self.fwd;
        let to = hay.len();
        let mut at = self.skip(hay, from, to);
        let mut sid = self.start_at(hay, at);
        let mut found: Option<(usize, usize)> = None;
        while at < to {
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

    /// Where the match of `pid` that ends at `end` starts (reverse DFA, anchored at `end`).
    fn find_start(&self, hay: &[u8], lo: usize, end: usize, pid: usize) -> usize {
        let input = Input::new(hay)
            .range(lo..end)
            .anchored(Anchored::Pattern(PatternID::new_unchecked(pid)));
        match self.rev.try_search_rev(&input) {
            Ok(Some(hm)) => hm.offset(),
            _ => lo,
        }
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
        self.fwd
            .try_search_fwd(&input)
            .ok()
            .flatten()
            .map(|hm| hm.offset())
    }

    fn builtin_hit(&self, det: &str, start: usize, end: usize, core: usize) -> Option<Hit> {
        let d = detector_index(det)?;
        self.builtin_on[d].then_some(Hit {
            start,
            end,
            core,
            type_id: d,
            action: d,
            continues: false,
        })
    }

    #[allow(clippy::too_many_arguments)]
    /// Decides on the candidate `[start, end)` of pattern `pid`: the hits in it (pushed to `hits`) and where
    /// the search resumes when there are none.
    fn decide(
        &self,
        hay: &[u8],
        pid: usize,
        start: usize,
        end: usize,
        floor: usize,
        st: &mut ChunkState,
        hits: &mut Vec<Hit>,
        nums: &mut Vec<NumberHit>,
    ) -> usize {
        match self.sources[pid] {
            Source::Builtin(handler) => {
                self.decide_builtin(hay, handler, start, end, floor, st, hits, nums)
            }
            Source::User { index } => {
                let u = &self.users[index];
                if u.validator
                    .is_none_or(|d| self.user_match_valid(hay, d, start, end, 0))
                {
                    hits.push(Hit {
                        start,
                        end,
                        core: start,
                        type_id: u.type_id,
                        action: u.action,
                        continues: false,
                    });
                }
                start + 1
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn decide_builtin(
        &self,
        hay: &[u8],
        handler: Handler,
        start: usize,
        end: usize,
        floor: usize,
        st: &mut ChunkState,
        hits: &mut Vec<Hit>,
        nums: &mut Vec<NumberHit>,
    ) -> usize {
        let cred = |c: Option<v::Credential>, hits: &mut Vec<Hit>| {
            if let Some(c) = c {
                let det = if c.password { PASSWORD } else { SECRET };
                hits.extend(self.builtin_hit(det, c.start, c.end, c.start));
            }
        };
        match handler {
            Handler::Numeric => {
                let end = v::numeric_run_end(hay, end);
                nums.clear();
                v::numbers_in(hay, start, end, 0, &self.kinds, nums);
                // A number that is the local part of an e-mail address is an e-mail address.
                if self.builtin_on[3] {
                    if let Some(email) = self.email_after_number(hay, start, end, floor) {
                        hits.extend(self.builtin_hit(EMAIL, email.0, email.1, email.0));
                        return email.1;
                    }
                }
                for n in nums.iter() {
                    let det = match n.kind {
                        NumberKind::Phone => PHONE,
                        NumberKind::IdCard => ID_CARD,
                        NumberKind::BankCard if v::value_of_id_key(hay, n.start) => continue,
                        NumberKind::BankCard => BANK_CARD,
                    };
                    hits.extend(self.builtin_hit(det, n.start, n.end, n.core_start));
                }
                // Resume at the second group: other patterns (an address after a date) may start there.
                second_group_start(hay, start, end).unwrap_or(end)
            }
            Handler::EmailAnchor => {
                if let Some((s, e)) = v::email_at(hay, start, floor) {
                    hits.extend(self.builtin_hit(EMAIL, s, e, s));
                    return e;
                }
                start + 1
            }
            Handler::Keyword => {
                cred(v::keyword_value(hay, start, end), hits);
                end
            }
            Handler::Bearer => {
                cred(v::bearer_value(hay, start, end, 0), hits);
                end
            }
            Handler::ChatPassword => {
                cred(v::chat_password_value(hay, start, end), hits);
                end
            }
            Handler::UrlAuthority => {
                cred(v::url_password(hay, end), hits);
                end
            }
            Handler::GoDsn => {
                cred(v::go_dsn_password(hay, start, floor), hits);
                end
            }
            Handler::CliPassword => {
                // `-p` may be the start of `-password=` (a Keyword match inside it): resume right after.
                match v::cli_password(hay, start, 0) {
                    Some(c) => {
                        cred(Some(c), hits);
                        c.end
                    }
                    None => start + 1,
                }
            }
            Handler::PemBlock => {
                let Some(end) = v::pem_private_header_end(hay, end) else {
                    return end;
                };
                let limit = hay.len().min(start + PEM_MAX_BYTES);
                let (e, complete) = v::pem_body_end(hay, end, limit);
                if !complete && limit == hay.len() {
                    st.in_pem = true;
                    st.pem_bytes = e - start;
                }
                hits.extend(self.builtin_hit(SECRET, start, e, start));
                e
            }
            Handler::TokenFormat => {
                if v::token_left_free(hay, start, 0) {
                    if let Some(e) = v::token_end(hay, start, end) {
                        hits.extend(self.builtin_hit(SECRET, start, e, start));
                        return e;
                    }
                }
                end
            }
            Handler::Ipv4 => {
                if v::ipv4_valid(hay, start, end, 0) {
                    hits.extend(self.builtin_hit(IPV4, start, end, start));
                    return end;
                }
                start + 1
            }
            Handler::Ipv6 => {
                let end = v::ipv6_candidate_end(hay, start);
                if let Some(e) = v::ipv6_end(hay, start, end, 0) {
                    hits.extend(self.builtin_hit(IPV6, start, e, start));
                    return e;
                }
                end
            }
        }
    }

    /// `13812345678@qq.com`, `user.13812345678@x.cn`: the number is inside an address's local part.
    fn email_after_number(
        &self,
        hay: &[u8],
        start: usize,
        end: usize,
        floor: usize,
    ) -> Option<(usize, usize)> {
        let mut i = end;
        while i < hay.len()
            && i - end < 64
            && (hay[i].is_ascii_alphanumeric() || matches!(hay[i], b'.' | b'_' | b'+' | b'-'))
        {
            i += 1;
        }
        v::email_anchor_len(hay, i)?;
        let (s, e) = v::email_at(hay, i, floor)?;
        (s <= start).then_some((s, e))
    }

    /// A user pattern whose type is a built-in one is checked by that type's validator.
    fn user_match_valid(
        &self,
        hay: &[u8],
        det: usize,
        start: usize,
        end: usize,
        floor: usize,
    ) -> bool {
        let name = BUILTIN_DETECTORS[det].name;
        let numeric_context_ok = || {
            v::number_left_free(hay, start)
                && v::number_right_free(hay, end)
                && !v::inside_hex_identifier(hay, start, end, floor)
        };
        let mut d = Vec::with_capacity(24);
        v::digits_of(&hay[start..end], &mut d);
        match name {
            PHONE => {
                let national = match d.len() {
                    11 => &d[..],
                    13 if d.starts_with(b"86") => &d[2..],
                    15 if d.starts_with(b"0086") => &d[4..],
                    _ => return false,
                };
                v::mobile_valid(national) && numeric_context_ok()
            }
            ID_CARD => {
                (v::id18_valid(&d, self.kinds.max_birth_year) || v::id15_valid(&d))
                    && numeric_context_ok()
            }
            BANK_CARD => {
                v::card_valid(&d)
                    && !v::id18_shaped(&d, self.kinds.max_birth_year)
                    && numeric_context_ok()
            }
            IPV4 => v::ipv4_valid(hay, start, end, floor),
            IPV6 => v::ipv6_end(hay, start, end, floor).is_some(),
            _ => true,
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
        let mut pos = from;
        let mut reach = to;
        if st.in_pem {
            st.in_pem = false;
            let limit = hay
                .len()
                .min(from + PEM_MAX_BYTES.saturating_sub(st.pem_bytes));
            let (e, complete) = v::pem_body_end(hay, from, limit);
            if !complete && limit == hay.len() && e > from {
                st.in_pem = true;
                st.pem_bytes += e - from;
            }
            if e > from {
                if let Some(h) = self.builtin_hit(SECRET, from, e, from) {
                    pos = on_hit(&Hit {
                        continues: true,
                        ..h
                    });
                    reach = reach.max(pos);
                }
            }
        }
        if self.sources.is_empty() {
            return reach;
        }
        let mut hits = Vec::new();
        let mut nums = Vec::new();
        while pos < to {
            let Some((pid, mend)) = self.find_fwd(hay, pos) else {
                break;
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
                break;
            }
            hits.clear();
            let mut resume = self.decide(hay, pid, start, mend, pos, st, &mut hits, &mut nums);
            if beyond {
                hits.retain(|h| h.start < to);
                if hits.is_empty() {
                    break;
                }
            }
            if hits.is_empty() {
                // Another pattern may match at the same start (a user pattern, say): lower priority only,
                // since the DFA already preferred `pid` over the ones before it.
                // Built-in patterns never start at the same byte as another (their first bytes differ), so
                // only user patterns are tried.
                for other in self.first_user.max(pid + 1)..self.sources.len() {
                    if let Some(e) = self.match_at(hay, start, other) {
                        let r = self.decide(hay, other, start, e, pos, st, &mut hits, &mut nums);
                        if !hits.is_empty() {
                            resume = r;
                            break;
                        }
                    }
                }
            }
            let mut next = resume.max(start + 1);
            for h in &hits {
                if h.start < pos {
                    continue;
                }
                pos = on_hit(h).max(h.end);
                next = next.max(pos);
                reach = reach.max(pos);
            }
            pos = next;
        }
        // Past `to`, only what hits covered is done: bytes a failed candidate ran over are scanned again
        // with the next region.
        reach
    }

    /// Redacts `hay[from..to]` into `out` (see [`Engine::scan`] for the contract). Returns the input offset
    /// up to which output was written (at least `to`; more when a hit ran past `to`).
    pub fn redact_region(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        st: &mut ChunkState,
        out: &mut Vec<u8>,
        findings: &mut Findings,
    ) -> usize {
        let mut floor = from;
        if st.drop_rest_of_line {
            match memchr::memchr(b'\n', &hay[from..to]) {
                Some(i) => {
                    let nl = from + i;
                    floor = nl + 1;
                    st.drop_rest_of_line = false;
                    if st.drop_rest_keeps_ending {
                        let cr = nl > 0 && hay[nl - 1] == b'\r';
                        out.extend_from_slice(if cr { b"\r\n" } else { b"\n" });
                    }
                }
                None => return to,
            }
        }
        // Where the current line starts in the output (for drop_line). A line longer than a region began in
        // an earlier one: what of it was already written stays, the rest is dropped.
        let mut line_out = out.len();
        let mut line_began_here = floor == 0 || hay[floor - 1] == b'\n';
        let mut drop_to: Option<usize> = None;
        let mut drop_rest: Option<bool> = None;
        let mut scratch = Vec::new();
        if findings.counts.len() < self.types.len() {
            findings.counts.resize(self.types.len(), 0);
        }
        let end = self.scan(hay, floor, to, st, |h| {
            let action = &self.actions[h.action];
            if let Some(d) = drop_to {
                if h.start < d {
                    return d;
                }
            }
            if h.continues && action.kind != ActionKind::DropLine {
                // Counted, and replaced, where it began: the output does not depend on where the input
                // was cut into regions. (Allowed, its text is written as it is.)
                if action.kind != ActionKind::Allow {
                    floor = h.end;
                }
                return h.end;
            }
            findings.counts[h.type_id] += 1;
            if action.kind == ActionKind::Allow {
                return h.end;
            }
            // Emit the gap, noting the last line start in it.
            let gap = &hay[floor..h.start];
            if let Some(nl) = memchr::memrchr(b'\n', gap) {
                line_out = out.len() + nl + 1;
                line_began_here = true;
            }
            out.extend_from_slice(gap);
            floor = h.start;
            match action.kind {
                ActionKind::DropLine => {
                    findings.lines_dropped += 1;
                    out.truncate(line_out);
                    match memchr::memchr(b'\n', &hay[h.end.min(to)..to]) {
                        Some(i) => {
                            let nl = h.end.min(to) + i;
                            floor = nl + 1;
                            if !line_began_here {
                                // Part of this line is already out: end it, or it runs into the next.
                                let cr = nl > 0 && hay[nl - 1] == b'\r';
                                out.extend_from_slice(if cr { b"\r\n" } else { b"\n" });
                            }
                        }
                        None => {
                            floor = to.max(h.end);
                            drop_rest = Some(!line_began_here);
                        }
                    }
                    line_out = out.len();
                    line_began_here = true;
                    drop_to = Some(floor);
                    floor
                }
                _ => {
                    self.render(hay, h, action, out, &mut scratch);
                    floor = h.end;
                    h.end
                }
            }
        });
        if let Some(keep_ending) = drop_rest {
            st.drop_rest_of_line = true;
            st.drop_rest_keeps_ending = keep_ending;
        }
        let stop = end.max(floor);
        if floor < stop {
            out.extend_from_slice(&hay[floor..stop]);
        }
        stop
    }

    /// Writes the replacement of one hit.
    fn render(
        &self,
        hay: &[u8],
        h: &Hit,
        action: &Action,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) {
        let type_name = &self.types[action.type_id];
        let value = &hay[h.start..h.end];
        match action.kind {
            ActionKind::Redact => out.extend_from_slice(&action.replacement),
            ActionKind::Mask => {
                // A country code or scheme before the core stays as it is.
                out.extend_from_slice(&hay[h.start..h.core]);
                let core = &hay[h.core..h.end];
                match type_name.as_str() {
                    EMAIL => match memchr::memchr(b'@', core)
                        .or_else(|| memchr::memmem::find(core, b"%40"))
                    {
                        Some(at) => {
                            mask_into(&core[..at], action.keep.0, 0, out);
                            out.extend_from_slice(&core[at..]);
                        }
                        None => mask_into(core, action.keep.0, action.keep.1, out),
                    },
                    IPV4 => {
                        let mut parts = core.split(|&b| b == b'.');
                        let a = parts.next().unwrap_or_default();
                        let b = parts.next().unwrap_or_default();
                        out.extend_from_slice(a);
                        out.push(b'.');
                        out.extend_from_slice(b);
                        out.extend_from_slice(b".*.*");
                    }
                    SECRET | PASSWORD | IPV6 => out.extend_from_slice(b"********"),
                    _ => mask_into(core, action.keep.0, action.keep.1, out),
                }
            }
            ActionKind::Hash => {
                scratch.clear();
                self.normalize(type_name, &hay[h.core..h.end], scratch);
                let tag = self
                    .hash_key
                    .as_ref()
                    .map(|k| k.pseudonym(type_name, scratch))
                    .unwrap_or(*b"00000000");
                out.push(b'[');
                out.extend_from_slice(type_name.as_bytes());
                out.push(b':');
                out.extend_from_slice(&tag);
                out.push(b']');
            }
            ActionKind::DropLine | ActionKind::Allow => out.extend_from_slice(value),
        }
    }

    /// The form of a value that is hashed: the same person gives the same pseudonym however it was written.
    fn normalize(&self, type_name: &str, core: &[u8], out: &mut Vec<u8>) {
        match type_name {
            PHONE | ID_CARD | BANK_CARD => v::digits_of(core, out),
            EMAIL => {
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
            IPV6 => out.extend(core.to_ascii_lowercase()),
            _ => out.extend_from_slice(core),
        }
    }
}

/// The byte where the second digit group of a numeric candidate starts.
fn second_group_start(hay: &[u8], start: usize, end: usize) -> Option<usize> {
    let digit_len = |i: usize| v::digit_len_at(hay, i);
    let mut i = start;
    while i < end && digit_len(i) == 0 {
        i += 1;
    }
    while i < end && digit_len(i) > 0 {
        i += digit_len(i);
    }
    while i < end && digit_len(i) == 0 {
        i += 1;
    }
    (i < end).then_some(i)
}

fn resolve_action(
    spec: &super::actions::ActionSpec,
    type_id: usize,
    type_name: &str,
    default_keep: (usize, usize),
    cfg: &EngineConfig,
) -> Action {
    let template = spec.replacement.as_deref().unwrap_or(&cfg.replacement);
    Action {
        kind: spec.kind,
        type_id,
        replacement: render_template(template, type_name),
        keep: (
            spec.keep_prefix.unwrap_or(default_keep.0),
            spec.keep_suffix.unwrap_or(default_keep.1),
        ),
    }
}

fn build_dfas(
    regexes: &[String],
    store: Option<&dyn super::DfaStore>,
) -> Result<(Dfa, Dfa), EngineError> {
    let refs: Vec<&str> = regexes.iter().map(String::as_str).collect();
    super::dfa_store::load_or_build(&refs, store).map_err(|f| match f {
        BuildFailure::Nfa(e) => EngineError::Build(format!("NFA: {e}")),
        BuildFailure::TooBig(e) => EngineError::TooBig(e),
    })
}

/// The built-in patterns' DFAs, built at compile time by build.rs (validated when loaded).
fn builtin_dfas() -> Result<(Dfa, Dfa), EngineError> {
    /// `include_bytes!` with the 4-byte alignment a DFA's transition table needs.
    #[repr(C)]
    struct Aligned<B: ?Sized> {
        _align: [u32; 0],
        bytes: B,
    }
    static FWD: &Aligned<[u8]> = &Aligned {
        _align: [],
        bytes: *include_bytes!(concat!(env!("OUT_DIR"), "/builtin_fwd.dfa")),
    };
    static REV: &Aligned<[u8]> = &Aligned {
        _align: [],
        bytes: *include_bytes!(concat!(env!("OUT_DIR"), "/builtin_rev.dfa")),
    };
    let load = |a: &'static Aligned<[u8]>| {
        dense::DFA::from_bytes(&a.bytes)
            .map(|(dfa, _)| dfa.to_owned())
            .map_err(|e| EngineError::Build(format!("built-in DFA: {e}")))
    };
    Ok((load(FWD)?, load(REV)?))
}
