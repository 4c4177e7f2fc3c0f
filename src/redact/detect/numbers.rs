//! Numbers: mobile phones, resident IDs and bank cards, as people and programs write them.
//!
//! A numeric candidate is lexed (through the text layer: ASCII, full-width and `\uff1X` digits; blanks,
//! dashes, dots, slashes and underscores between groups; a `+`/`%2B`/`＋` prefix; an X check character) into
//! digit groups. Every sub-range of whole groups is then matched against the shapes each kind is written in
//! (`[3, 4, 4]` for a mobile, groups of four for a card) and its checksum, leftmost-longest. A dot, a slash
//! or an underscore between groups is a strict separator: only the canonical groupings are taken with them,
//! and only as a whole run (`138.1234.5678` is a mobile, `1381234.5678` is a decimal number).

use super::checksums::{card_valid, id15_valid, id18_shaped, id18_valid, mobile_valid};
use super::{email, keys, Context, Detector, Found, Settings};
use std::cell::Cell;

use crate::redact::text::{self, Ch, Cursor};

/// Groups in one numeric candidate (a candidate holds at most 64 digits; more groups end it).
const MAX_GROUPS: usize = 16;
const MAX_DIGITS: usize = 64;

/// What separates two digit groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Sep {
    #[default]
    None,
    /// A blank: space, no-break, thin and ideographic spaces, `%20`, `&nbsp;`.
    Blank,
    /// Two blanks (`138  1234  5678`): a separator of its own, so two numbers two blanks apart stay two.
    DoubleBlank,
    /// `-` and the Unicode and full-width dashes.
    Dash,
    /// `.`, `·`, `・`: strict.
    Dot,
    /// `/`: strict.
    Slash,
    /// `_`: strict.
    Underscore,
}

impl Sep {
    fn of(ch: &Ch) -> Option<Sep> {
        Some(match ch.c {
            ' ' | '\u{A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\u{3000}' => Sep::Blank,
            '-' | '\u{2010}'..='\u{2014}' => Sep::Dash,
            '.' | '\u{B7}' | '\u{30FB}' => Sep::Dot,
            '/' => Sep::Slash,
            '_' => Sep::Underscore,
            _ => return None,
        })
    }

    /// Binds short groups into one run: a number is taken only as the whole run.
    fn strict(self) -> bool {
        matches!(self, Sep::Dot | Sep::Slash | Sep::Underscore)
    }

    /// Taken only in the canonical groupings (two blanks also separate columns and unrelated numbers).
    fn canonical_only(self) -> bool {
        self.strict() || self == Sep::DoubleBlank
    }
}

/// A number found inside a numeric candidate: the byte span, its kind, and where its national part starts
/// (after `+86`), used by `mask` and `hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberHit {
    pub start: usize,
    pub end: usize,
    pub kind: Detector,
    pub core_start: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct Group {
    /// Byte span in the haystack.
    start: usize,
    end: usize,
    /// Span in the digit buffer.
    d0: u8,
    d1: u8,
    /// Separator before this group.
    sep: Sep,
}

impl Group {
    fn len(&self) -> usize {
        usize::from(self.d1 - self.d0)
    }
}

/// `b` is bound to the group `a` before it: a strict separator between two groups short enough to be parts of
/// one number (no canonical grouping has a group longer than 8). `13812345678/13912345678` are two numbers.
fn bound(a: &Group, b: &Group) -> bool {
    b.sep.strict() && a.len() <= 8 && b.len() <= 8
}

/// A lexed candidate: its digits, groups and what surrounds them.
struct Run {
    digits: [u8; MAX_DIGITS],
    groups: [Group; MAX_GROUPS],
    ng: usize,
    /// Byte offset of a `+` / `%2B` / `＋` before the first group.
    plus: Option<usize>,
    /// An X check character right after the last group.
    x_suffix: Option<(usize, usize)>,
    /// The candidate starts right after an escape that the DFA read as digits (`\u5361` + `138...`).
    escape_left: bool,
    /// A digit group just before the candidate, one blank away: its length (read when first needed).
    left_group: Cell<Option<Option<usize>>>,
    /// Where the run ends (after its last group or check character).
    end: usize,
    /// What stands around the run (read when a sub-range first passes its checksums).
    edges: Cell<Option<Edges>>,
}

/// The letters and digits glued to one side of a number.
#[derive(Debug, Clone, Copy, Default)]
struct Glue {
    len: usize,
    digits: bool,
    letters: bool,
    /// A letter that is not a hex digit.
    non_hex: bool,
}

impl Glue {
    fn read(mut c: Cursor, forward: bool) -> Glue {
        let mut g = Glue::default();
        let mut take = |ch: &Ch| {
            let ok = ch.is_ascii_alnum() && !ch.is_ansi();
            if ok {
                g.len += 1;
                g.digits |= ch.c.is_ascii_digit();
                g.letters |= ch.c.is_ascii_alphabetic();
                g.non_hex |= !ch.c.is_ascii_hexdigit();
            }
            ok
        };
        if forward {
            c.forward_while(64, &mut take);
        } else {
            c.back_while(64, &mut take);
        }
        g
    }
}

/// True when a number sits inside an identifier: the letters glued to it on either side are all hex digits
/// (a UUID group, a digest, a hex id), or digits are glued to its left (through letters), or to its right
/// when letters are glued to both sides (`corpid=wwbd77e13752283728`, `wxe13812345678bd77`: ids of letters
/// and digits, not a word before a number).
fn inside_identifier(left: Glue, right: Glue) -> bool {
    if left.digits || (left.len > 0 && right.digits) {
        return true;
    }
    if left.len == 0 && right.len == 0 {
        return false;
    }
    !(left.non_hex || right.non_hex) && (left.letters || right.letters)
}

/// The context at a run's two ends.
#[derive(Debug, Clone, Copy, Default)]
struct Edges {
    /// The first group is free on its left (see [`left_free`]), or follows a `+` or an escape.
    left_free: bool,
    /// `avatar_13812345678`: after a word and `_`, only a phone is taken.
    word_underscore: bool,
    left_glue: Glue,
    /// Right after the last group, and right after the X check character.
    right: (bool, Glue),
    x_right: (bool, Glue),
}

impl Run {
    fn groups(&self) -> &[Group] {
        &self.groups[..self.ng]
    }

    fn edges(&self, ctx: &Context) -> Edges {
        if let Some(e) = self.edges.get() {
            return e;
        }
        let e = edges(ctx, self);
        self.edges.set(Some(e));
        e
    }

    fn left_group(&self, ctx: &Context) -> Option<usize> {
        if let Some(g) = self.left_group.get() {
            return g;
        }
        let g = (self.plus.is_none() && !self.escape_left)
            .then(|| left_digit_group(ctx, self.groups[0].start))
            .flatten();
        self.left_group.set(Some(g));
        g
    }
}

/// Lexes the numeric candidate that starts at `start`.
fn lex(ctx: &Context, start: usize) -> Run {
    let trimmed = text::skip_into(ctx.hay, start, ctx.read_floor);
    let mut run = Run {
        digits: [0; MAX_DIGITS],
        groups: [Group::default(); MAX_GROUPS],
        ng: 0,
        plus: None,
        x_suffix: None,
        escape_left: trimmed > start,
        left_group: Cell::new(None),
        end: trimmed,
        edges: Cell::new(None),
    };
    let mut lx = Lexer {
        at: trimmed,
        nd: 0,
        in_group: false,
        pending: Sep::None,
        blanks: 0,
    };
    while let Some(ch) = ctx.cursor(lx.at).peek() {
        let go_on = if let Some(d) = ch.digit() {
            lx.digit(ctx.hay, &mut run, &ch, d)
        } else if ch.c == '+' && run.ng == 0 && run.plus.is_none() {
            // After a word, a raw `+` is a form-encoded space (`q=my+phone+is+138...`), not a sign.
            let after_word = || {
                ctx.cursor(ch.start)
                    .peek_back()
                    .is_some_and(|p| p.is_ascii_alnum())
            };
            if ch.raw_ascii().is_none() || !after_word() {
                run.plus = Some(ch.start);
            }
            true
        } else if matches!(ch.c, 'X' | 'x') && lx.in_group {
            run.x_suffix = Some((ch.start, ch.end));
            run.end = ch.end;
            false
        } else {
            Sep::of(&ch).is_some_and(|sep| lx.separator(sep))
        };
        if !go_on {
            break;
        }
        lx.at = lx.at.max(ch.end);
    }
    run
}

/// The lexer's state between characters.
struct Lexer {
    at: usize,
    /// Digits so far.
    nd: usize,
    in_group: bool,
    /// The separator seen since the last group.
    pending: Sep,
    /// Blanks in a row.
    blanks: u8,
}

impl Lexer {
    /// A digit: starts a group or extends it, then takes the plain ASCII digits that follow at once. False
    /// when the run is full.
    fn digit(&mut self, hay: &[u8], run: &mut Run, ch: &Ch, d: u8) -> bool {
        if self.nd == MAX_DIGITS || (!self.in_group && run.ng == MAX_GROUPS) {
            return false;
        }
        if !self.in_group {
            run.groups[run.ng] = Group {
                start: ch.start,
                end: ch.start,
                d0: self.nd as u8,
                d1: self.nd as u8,
                sep: self.pending,
            };
            run.ng += 1;
            self.in_group = true;
            self.blanks = 0;
        }
        run.digits[self.nd] = d;
        self.nd += 1;
        let mut end = ch.end;
        while self.nd < MAX_DIGITS && hay.get(end).is_some_and(u8::is_ascii_digit) {
            run.digits[self.nd] = hay[end];
            self.nd += 1;
            end += 1;
        }
        let g = &mut run.groups[run.ng - 1];
        g.end = end;
        g.d1 = self.nd as u8;
        run.end = end;
        self.at = end;
        true
    }

    /// One separator between groups; two blanks are one separator of their own. False when it ends the run.
    fn separator(&mut self, sep: Sep) -> bool {
        let second_blank =
            !self.in_group && self.pending == Sep::Blank && sep == Sep::Blank && self.blanks == 1;
        if !(self.in_group || second_blank) {
            return false;
        }
        self.blanks = if sep == Sep::Blank {
            self.blanks + 1
        } else {
            0
        };
        self.in_group = false;
        self.pending = if second_blank { Sep::DoubleBlank } else { sep };
        true
    }
}

fn edges(ctx: &Context, run: &Run) -> Edges {
    let first = run.groups[0].start;
    let last = run.groups[run.ng - 1].end;
    let left_free = run.plus.is_some() || run.escape_left || left_free(ctx, first);
    let right_at = |end: usize| (right_free(ctx, end), Glue::read(ctx.cursor(end), true));
    Edges {
        left_free,
        word_underscore: !left_free && underscore_after_word(ctx, first),
        left_glue: Glue::read(ctx.cursor(first), false),
        right: right_at(last),
        x_right: run
            .x_suffix
            .map_or_else(Default::default, |(_, e)| right_at(e)),
    }
}

/// The digit group that ends one blank before `start` (`6228 |4397 ...`): its length.
fn left_digit_group(ctx: &Context, start: usize) -> Option<usize> {
    let mut c = ctx.cursor(start);
    let sep = c.prev()?;
    if !matches!(sep.c, ' ' | '\u{3000}') {
        return None;
    }
    let n = c.back_while(8, |ch| ch.digit().is_some());
    (n > 0).then_some(n)
}

/// Finds every phone, ID and card in the candidate at `start`, leftmost-longest at group boundaries, and
/// returns where the search resumes (the second group: an address after a date may start there).
pub fn detect(ctx: &Context, start: usize, settings: &Settings, out: &mut Vec<Found>) -> usize {
    let run = lex(ctx, start);
    if run.ng == 0 {
        return start + 1;
    }
    // A number that is the local part of an e-mail address is an e-mail address.
    if settings.on(Detector::Email) {
        if let Some((s, e)) = email::address_around_number(ctx, run.groups[0].start, run.end) {
            out.push(Found::new(Detector::Email, s, e));
            return e;
        }
    }
    numbers_in(ctx, &run, settings, |n| {
        // Message, order and trace ids pass Luhn one time in ten (and look like a mobile or an ID now and
        // then): the key in front says what they are.
        if spared_by_key(ctx, &n) {
            return;
        }
        out.push(Found {
            start: n.start,
            end: n.end,
            core: n.core_start,
            det: n.kind,
        });
    });
    if run.escape_left && out.is_empty() {
        // The DFA began inside an escape (`\u5740` + `203.0.113.5`): other patterns may start after it.
        run.groups[0].start
    } else if run.ng >= 2 {
        run.groups[1].start
    } else {
        run.end.max(start + 1)
    }
}

/// The key in front of a number says it is an identifier, not personal data: any id key for a card (cards
/// are checked by Luhn only), a machine's id key for a mobile or an ID.
fn spared_by_key(ctx: &Context, n: &NumberHit) -> bool {
    let Some(key) = keys::key_before(ctx, n.start) else {
        return false;
    };
    match n.kind {
        Detector::BankCard => keys::names_an_identifier(&key),
        _ => keys::names_a_machine_id(&key),
    }
}

/// Every number in a lexed run, in order.
fn numbers_in(ctx: &Context, run: &Run, settings: &Settings, mut found: impl FnMut(NumberHit)) {
    let ng = run.ng;
    let mut gi = 0;
    while gi < ng {
        let hit = (gi..ng).rev().find_map(|gj| {
            Sub::new(ctx, run, gi, gj)
                .and_then(|s| s.classify(settings))
                .map(|h| (gj, h))
        });
        match hit {
            Some((gj, h)) => {
                found(h);
                gi = gj + 1;
            }
            None => gi += 1,
        }
    }
}

/// A sub-range `gi..=gj` of a run's groups. Its digits and shape are checked first; what stands around it is
/// read only for a sub-range that could be a number.
struct Sub<'r, 'a> {
    ctx: &'r Context<'a>,
    run: &'r Run,
    gi: usize,
    gj: usize,
    /// Digits of the sub-range.
    d: &'r [u8],
    lens: [usize; 8],
    n_groups: usize,
    plus: Option<usize>,
}

impl<'r, 'a> Sub<'r, 'a> {
    fn new(ctx: &'r Context<'a>, run: &'r Run, gi: usize, gj: usize) -> Option<Self> {
        let gs = &run.groups()[gi..=gj];
        let d = &run.digits[usize::from(gs[0].d0)..usize::from(gs[gs.len() - 1].d1)];
        if d.len() < 11 || gs.len() > 8 {
            return None;
        }
        let mut lens = [0; 8];
        for (l, g) in lens.iter_mut().zip(gs) {
            *l = g.len();
        }
        Some(Sub {
            ctx,
            run,
            gi,
            gj,
            d,
            lens,
            n_groups: gs.len(),
            plus: if gi == 0 { run.plus } else { None },
        })
    }

    /// (free on the left, `avatar_` before it): a sub-range bounded by a blank or dash is free on that side,
    /// by a strict separator it is not; a strict separator that does not bind is judged as text (`2024/138...`
    /// is free, `v1.138...` is not). After a word and `_` only a phone is taken.
    fn left(&self) -> (bool, bool) {
        let (run, gi, g) = (self.run, self.gi, &self.gs()[0]);
        match gi {
            0 => {
                let e = run.edges(self.ctx);
                (e.left_free, e.word_underscore)
            }
            _ if bound(&run.groups[gi - 1], g) => (false, false),
            _ if g.sep.strict() => (left_free(self.ctx, g.start), false),
            _ => (true, false),
        }
    }

    fn gs(&self) -> &'r [Group] {
        &self.run.groups()[self.gi..=self.gj]
    }

    fn shape(&self) -> &[usize] {
        &self.lens[..self.n_groups]
    }

    /// The separator between this sub-range's groups (all the same), from group `k` on.
    fn uniform_from(&self, k: usize) -> bool {
        let gs = self.gs();
        gs.len() <= k + 1 || gs[k + 1..].iter().all(|g| g.sep == gs[k + 1].sep)
    }

    /// The separators from group `k` on may make one number: all the same, or mixed (`138-1234 5678`,
    /// `6222 0202-0001 2345`) across three groups or more, which is then judged as [`Sub::strict`].
    /// A mixed sub-range stands alone: no two blanks inside it (they part columns and unrelated numbers),
    /// and no group joined to it on either side (`6222 0202 0001 2345  152-8555-4293` is a card and a
    /// mobile, never a 19-digit card of mixed separators).
    fn seps_ok_from(&self, k: usize) -> bool {
        if self.uniform_from(k) {
            return true;
        }
        let (gi, gj, groups) = (self.gi, self.gj, self.run.groups());
        let alone = |g: Option<&Group>| g.is_none_or(|g| g.sep == Sep::DoubleBlank);
        self.n_groups - k >= 3
            && self.gs()[k + 1..].iter().all(|g| g.sep != Sep::DoubleBlank)
            && (gi == 0 || alone(groups.get(gi)))
            && alone(groups.get(gj + 1))
    }

    /// Only the canonical groupings and the three-or-more-group ones are taken: two groups joined by a
    /// strict separator are a decimal, a fraction or a column pair (see [`Sep::canonical_only`]), and so
    /// are mixed separators.
    fn strict(&self) -> bool {
        self.gs().iter().skip(1).any(|g| g.sep.canonical_only()) || !self.uniform_from(0)
    }

    fn span_start(&self) -> usize {
        self.plus.unwrap_or(self.gs()[0].start)
    }

    /// Free on the right at `end` (the last group's end, or the X check character's), and not inside an
    /// identifier.
    fn ends_free(&self, end: usize) -> bool {
        let (right, right_glue) = match self.run.groups().get(self.gj + 1) {
            Some(g) if bound(&self.run.groups[self.gj], g) => return false,
            Some(g) if !g.sep.strict() => (true, Glue::default()),
            Some(_) => (right_free(self.ctx, end), Glue::default()),
            None if self.run.x_suffix.is_some_and(|(_, e)| e == end) => {
                self.run.edges(self.ctx).x_right
            }
            None => self.run.edges(self.ctx).right,
        };
        let left_glue = if self.gi == 0 {
            self.run.edges(self.ctx).left_glue
        } else {
            Glue::default()
        };
        right && !inside_identifier(left_glue, right_glue)
    }

    fn hit(&self, kind: Detector, end: usize, core_start: usize) -> Option<NumberHit> {
        Some(NumberHit {
            start: self.span_start(),
            end,
            kind,
            core_start,
        })
    }

    /// The number this sub-range is, if any: its digits and shape first, then its edges.
    fn classify(&self, settings: &Settings) -> Option<NumberHit> {
        if let Some(h) = self.id_with_x(settings) {
            let (free, word_underscore) = self.left();
            if free && !word_underscore && self.ends_free(h.end) {
                return Some(h);
            }
        }
        let last_end = self.gs()[self.n_groups - 1].end;
        let phone = settings
            .on(Detector::Phone)
            .then(|| self.phone(last_end))
            .flatten();
        let id_or_card = if self.plus.is_none() && self.seps_ok_from(0) {
            self.id_or_card(settings, last_end)
        } else {
            None
        };
        if phone.is_none() && id_or_card.is_none() {
            return None;
        }
        let (free, word_underscore) = self.left();
        if !(free || word_underscore) || !self.ends_free(last_end) || !self.whole() {
            return None;
        }
        phone.or(id_or_card.filter(|_| !word_underscore))
    }

    /// An 18-char ID whose check character is X.
    fn id_with_x(&self, settings: &Settings) -> Option<NumberHit> {
        let (_, xe) = self.run.x_suffix?;
        let shape_ok = matches!(self.shape(), [17] | [6, 8, 3] | [6, 4, 4, 3]);
        if !settings.on(Detector::IdCard)
            || self.gj != self.run.ng - 1
            || self.d.len() != 17
            || self.plus.is_some()
            || !shape_ok
            || !self.seps_ok_from(0)
        {
            return None;
        }
        let mut chars = [0u8; 18];
        chars[..17].copy_from_slice(self.d);
        chars[17] = b'X';
        id18_valid(&chars, settings.max_birth_year)
            .then(|| self.hit(Detector::IdCard, xe, self.span_start()))?
    }

    /// 11 digits as 11, 3-4-4, 4-3-4, 4-4-3, 3-3-5, 3-8 or 7-4 (with a strict or mixed separator, not the
    /// two-group ones), after an optional +86 / 86 / 0086.
    fn phone(&self, last_end: usize) -> Option<NumberHit> {
        let strict = self.strict();
        // 3-4-4 is how mobiles are written; 3-8, 7-4, 4-3-4, 4-4-3 and 3-3-5 are how people also type them.
        let phone_shape = |s: &[usize]| match s {
            [11] | [3, 4, 4] | [4, 3, 4] | [4, 4, 3] | [3, 3, 5] => true,
            [3, 8] | [7, 4] => !strict,
            _ => false,
        };
        let d = self.d;
        if self.plus.is_none()
            && d.len() == 11
            && mobile_valid(d)
            && phone_shape(self.shape())
            && self.seps_ok_from(0)
        {
            return self.hit(Detector::Phone, last_end, self.span_start());
        }
        let cc = if d.starts_with(b"0086") && self.plus.is_none() {
            4
        } else if d.starts_with(b"86") {
            2
        } else {
            return None;
        };
        if d.len() != cc + 11 || !mobile_valid(&d[cc..]) {
            return None;
        }
        let cc_is_group = self.shape()[0] == cc;
        let mut body = [0usize; 8];
        let n = if cc_is_group {
            body[..self.n_groups - 1].copy_from_slice(&self.shape()[1..]);
            self.n_groups - 1
        } else {
            body[..self.n_groups].copy_from_slice(self.shape());
            body[0] -= cc;
            self.n_groups
        };
        let seps_ok = self.seps_ok_from(usize::from(cc_is_group));
        if !(phone_shape(&body[..n]) && seps_ok) {
            return None;
        }
        let core = if cc_is_group {
            self.gs()[1].start
        } else {
            byte_after_digits(self.ctx, self.gs()[0].start, cc)
        };
        self.hit(Detector::Phone, last_end, core)
    }

    /// An 18-digit or 15-digit ID, else a card; an ID-shaped number is never a card.
    fn id_or_card(&self, settings: &Settings, last_end: usize) -> Option<NumberHit> {
        let (s, d) = (self.shape(), self.d);
        let mut id_shaped = false;
        if d.len() == 18 {
            id_shaped = id18_shaped(d, settings.max_birth_year);
            // 6-8-4 (region, birth date, sequence and check), or the date split 6-4-4-4.
            let shape_ok = matches!(s, [18] | [6, 8, 4] | [6, 4, 4, 4]);
            if settings.on(Detector::IdCard) && shape_ok && id18_valid(d, settings.max_birth_year) {
                return self.hit(Detector::IdCard, last_end, self.span_start());
            }
        }
        if d.len() == 15 && id15_valid(d) {
            // Written 4-6-5, it is an Amex card (`3412 345678 90123`: 34 is also a region code).
            id_shaped = s != [4, 6, 5];
            if settings.on(Detector::IdCard) && matches!(s, [15] | [6, 6, 3]) {
                return self.hit(Detector::IdCard, last_end, self.span_start());
            }
        }
        if !settings.on(Detector::BankCard) || id_shaped || !(13..=19).contains(&d.len()) {
            return None;
        }
        let by_4 = s.len() >= 3
            && s[..s.len() - 1].iter().all(|&l| l == 4)
            && (1..=4).contains(&s[s.len() - 1]);
        // Amex 4-6-5, Diners 4-6-4.
        let loose = matches!(s, [4, 6, 5] | [4, 6, 4]);
        if (s.len() == 1 || by_4 || loose) && card_valid(d) {
            return self.hit(Detector::BankCard, last_end, self.span_start());
        }
        None
    }

    /// A grouped sub-range (`4111 1111 1111 1111`) is a number only as a whole: a short group joined to it by
    /// the same separator (`6222 0212 3456 7890 128`) means the number goes on, and its part is not a number.
    fn whole(&self) -> bool {
        let (gi, gj, groups) = (self.gi, self.gj, self.run.groups());
        if gi == gj {
            return true;
        }
        let ng = groups.len();
        let sep = groups[gj].sep;
        // Before it, only a full group of four continues it (card numbers end short, they never start short).
        let before = if gi > 0 {
            groups[gi].sep == sep && groups[gi - 1].len() == 4
        } else {
            sep == Sep::Blank && self.run.left_group(self.ctx) == Some(4)
        };
        // The neighbour continues this number only if it goes on the same way (`... 5061 622`), not when it
        // starts something else (`... 9011 2024-05-07`).
        let same_after = |k: usize| k + 1 >= ng || groups[k + 1].sep == sep;
        let same_before = |k: usize| k == 0 || groups[k].sep == sep;
        let before = before && (gi == 0 || same_before(gi - 1));
        let after = gj + 1 < ng
            && groups[gj + 1].sep == sep
            && groups[gj + 1].len() <= 4
            && same_after(gj + 1);
        !(before || after)
    }
}

/// Byte offset after the first `count` digits starting at `from`.
fn byte_after_digits(ctx: &Context, from: usize, count: usize) -> usize {
    let mut c = ctx.cursor(from);
    c.forward_while(count, |ch| ch.digit().is_some());
    c.at
}

/// Is a number starting at `start` free on its left? Digits glued to digits, a decimal point after digits,
/// identifier glue (`blk_`, `blk_-`) say no; letters (judged by `inside_identifier`), escapes (`\n`,
/// `\u53f7`, `%3A`, `&#58;`), colour codes, CJK text, opaque bytes and punctuation say yes.
pub fn left_free(ctx: &Context, start: usize) -> bool {
    let mut c = ctx.cursor(start);
    let Some(prev) = c.prev() else {
        return true;
    };
    let before = || c.peek_back();
    if prev.digit().is_some() {
        return false;
    }
    match prev.c {
        // A decimal point or a version dot after digits; a comma separates (CSV rows, lists, arrays).
        '.' => before().is_none_or(|b| b.digit().is_none()),
        '_' => false,
        '-' => !before().is_some_and(|b| b.c == '_' || b.digit().is_some()),
        _ => true,
    }
}

/// Is a number ending at `end` free on its right? (Letters are judged by `inside_identifier`.)
pub fn right_free(ctx: &Context, end: usize) -> bool {
    let mut c = ctx.cursor(end);
    let Some(next) = c.next() else {
        return true;
    };
    if next.digit().is_some() {
        return false;
    }
    !(next.c == '.' && c.peek().is_some_and(|n| n.digit().is_some()))
}

/// `avatar_` before `start`: an underscore after at least two ASCII letters.
fn underscore_after_word(ctx: &Context, start: usize) -> bool {
    let mut c = ctx.cursor(start);
    c.prev().is_some_and(|u| u.c == '_') && c.back_while(2, |ch| ch.c.is_ascii_alphabetic()) == 2
}

/// The digits of a span (ASCII, full-width, escaped; an X check character in any of its forms as `X`): the
/// form of a number that is hashed, so the same person gives the same pseudonym however it was written.
pub fn normalize(hay: &[u8], start: usize, end: usize, out: &mut Vec<u8>) {
    let mut c = Cursor::new(hay, start, start);
    while c.at < end {
        let Some(ch) = c.next() else { break };
        if let Some(d) = ch.digit() {
            out.push(d);
        } else if matches!(ch.c, 'X' | 'x') {
            out.push(b'X');
        }
    }
}

/// A user pattern of a numeric type matched `[start, end)`: taken when the built-in detector finds a number
/// of that kind covering the same digits, with the same context rules.
pub fn validate_span(
    ctx: &Context,
    start: usize,
    end: usize,
    det: Detector,
    settings: &Settings,
) -> Option<(usize, usize, usize)> {
    let mut only = *settings;
    only.on = [false; Detector::COUNT];
    only.on[det.index()] = true;
    let run = lex(ctx, start);
    let mut hit = None;
    numbers_in(ctx, &run, &only, |h| {
        if hit.is_none() && h.start <= start && h.end >= end {
            hit = Some(h);
        }
    });
    let hit = hit?;
    if spared_by_key(ctx, &hit) {
        return None;
    }
    Some((start.min(hit.start), end.max(hit.end), hit.core_start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(text: &str) -> Vec<(String, Detector)> {
        let hay = text.as_bytes();
        let settings = Settings {
            on: [true; Detector::COUNT],
            max_birth_year: 2026,
        };
        let mut out = Vec::new();
        // Emulate the engine: every maximal candidate (start at a digit or +).
        let mut i = 0;
        while i < hay.len() {
            let b = hay[i];
            if b.is_ascii_digit() || b == b'+' || b >= 0x80 && hay[i..].starts_with("１".as_bytes())
            {
                let ctx = Context::new(hay, i, 0);
                let run = lex(&ctx, i);
                numbers_in(&ctx, &run, &settings, |h| out.push(h));
                i = run.end.max(i + 1);
            } else {
                i += 1;
            }
        }
        out.iter()
            .map(|h| (text[h.start..h.end].to_string(), h.kind))
            .collect()
    }

    #[test]
    fn numbers_split_at_group_boundaries() {
        use Detector::*;
        assert_eq!(numbers("13812345678"), vec![("13812345678".into(), Phone)]);
        assert_eq!(
            numbers("x 2026-11-25 13812345678"),
            vec![("13812345678".into(), Phone)]
        );
        assert_eq!(
            numbers("a 13812345678 13912345678"),
            vec![("13812345678".into(), Phone), ("13912345678".into(), Phone)]
        );
        assert_eq!(
            numbers("+86 138-1234-5678"),
            vec![("+86 138-1234-5678".into(), Phone)]
        );
        assert_eq!(numbers("138123456789"), vec![]);
        assert_eq!(
            numbers("4111 1111 1111 1111"),
            vec![("4111 1111 1111 1111".into(), BankCard)]
        );
        assert_eq!(
            numbers("11010519491231002X"),
            vec![("11010519491231002X".into(), IdCard)]
        );
    }

    #[test]
    fn strict_separators_take_only_canonical_groupings_as_a_whole() {
        use Detector::*;
        assert_eq!(
            numbers("138.1234.5678"),
            vec![("138.1234.5678".into(), Phone)]
        );
        assert_eq!(
            numbers("138/1234/5678"),
            vec![("138/1234/5678".into(), Phone)]
        );
        assert_eq!(
            numbers("138_1234_5678"),
            vec![("138_1234_5678".into(), Phone)]
        );
        assert_eq!(
            numbers("138·1234·5678"),
            vec![("138·1234·5678".into(), Phone)]
        );
        assert_eq!(
            numbers("138  1234  5678"),
            vec![("138  1234  5678".into(), Phone)]
        );
        // Decimals and coordinates: not a mobile written 3-8 or 7-4, and no part of a dotted run.
        assert_eq!(numbers("lng 138.12345678"), vec![]);
        assert_eq!(numbers("1381234.5678"), vec![]);
        assert_eq!(numbers("13812345678.5"), vec![]);
        assert_eq!(numbers("v1.13812345678"), vec![]);
        assert_eq!(
            numbers("4111.1111.1111.1111"),
            vec![("4111.1111.1111.1111".into(), BankCard)]
        );
    }

    #[test]
    fn full_width_x_normalizes_like_ascii_x() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        let x = "１１０１０５１９４９１２３１００２Ｘ";
        normalize(x.as_bytes(), 0, x.len(), &mut a);
        normalize(b"11010519491231002x", 0, 18, &mut b);
        assert_eq!(a, b"11010519491231002X");
        assert_eq!(a, b);
    }
}
