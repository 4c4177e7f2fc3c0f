//! How the one DFA is built from pattern strings. Shared, through `#[path]`, with `build.rs`, which builds
//! the built-in patterns' DFA at compile time (building it takes ~0.2 s; loading it takes microseconds).
//! Only regex-automata is used here, so the file compiles in both places.

use regex_automata::dfa::{dense, StartKind};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;
use regex_automata::MatchKind;

/// Limits that keep the DFA within the memory budget whatever users write. The built-in patterns with the
/// seed's four compiled again (an action of their own) take 13 MiB forward.
pub const DFA_SIZE_LIMIT: usize = 16 << 20;
pub const DETERMINIZE_SIZE_LIMIT: usize = 32 << 20;
/// Heap of the Thompson NFA the DFA is built from: without it a nested counted repetition
/// (`a{65535}{65535}`) compiles an NFA of billions of states before the DFA limits are ever checked.
pub const NFA_SIZE_LIMIT: usize = 8 << 20;

/// A dense DFA owning its transition table.
pub type Dfa = dense::DFA<Vec<u32>>;

/// Why building failed: the pattern text is at fault, or the NFA or DFA is too large. `pattern` is the
/// index (in the slice given to [`build`]) of a pattern that fails on its own, when one does.
#[derive(Debug)]
pub enum BuildFailure {
    Nfa {
        message: String,
        pattern: Option<usize>,
    },
    TooBig {
        message: String,
        pattern: Option<usize>,
    },
}

/// Builds the forward (leftmost-first, unanchored and per-pattern anchored starts, start states
/// specialized for the skip loop) and reverse (all matches, anchored) DFAs over raw bytes. `minimize`
/// merges equivalent states (a quarter fewer for the built-ins: a smaller table in the caches while
/// searching), at a few times the build time: build.rs does it for the DFA compiled into the binary.
pub fn build(regexes: &[&str], minimize: bool) -> Result<(Dfa, Dfa), BuildFailure> {
    build_all(regexes, minimize).map_err(|f| name_culprit(f, regexes))
}

/// The Thompson NFA of `regexes` (forward, or reverse for the reverse DFA), within [`NFA_SIZE_LIMIT`].
fn nfa(regexes: &[&str], reverse: bool) -> Result<thompson::NFA, BuildFailure> {
    let syntax = syntax::Config::new().unicode(true).utf8(false);
    thompson::Compiler::new()
        .syntax(syntax)
        .configure(
            thompson::Config::new()
                .utf8(false)
                .reverse(reverse)
                .shrink(reverse)
                .which_captures(thompson::WhichCaptures::None)
                .nfa_size_limit(Some(NFA_SIZE_LIMIT)),
        )
        .build_many(regexes)
        .map_err(|e| {
            let message = e.to_string();
            // Exceeding the NFA's size limit is "too large", not a syntax error.
            if e.size_limit().is_some() {
                BuildFailure::TooBig {
                    message,
                    pattern: None,
                }
            } else {
                BuildFailure::Nfa {
                    message,
                    pattern: None,
                }
            }
        })
}

/// After a failure: the first pattern whose NFA fails on its own (cheap: each is bounded), if any. (A DFA
/// too large is not searched for: building DFAs one by one can take seconds each.)
fn name_culprit(f: BuildFailure, regexes: &[&str]) -> BuildFailure {
    let culprit = if regexes.len() < 2 {
        (regexes.len() == 1).then_some(0)
    } else {
        (0..regexes.len()).find(|&i| {
            [false, true]
                .iter()
                .any(|&rev| nfa(&regexes[i..=i], rev).is_err())
        })
    };
    match f {
        BuildFailure::Nfa { message, .. } => BuildFailure::Nfa {
            message,
            pattern: culprit,
        },
        BuildFailure::TooBig { message, .. } => BuildFailure::TooBig {
            message,
            pattern: culprit,
        },
    }
}

fn build_all(regexes: &[&str], minimize: bool) -> Result<(Dfa, Dfa), BuildFailure> {
    let fwd = dense::Builder::new()
        .configure(
            dense::Config::new()
                .match_kind(MatchKind::LeftmostFirst)
                .starts_for_each_pattern(true)
                .specialize_start_states(true)
                .accelerate(false)
                .minimize(minimize)
                .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                .determinize_size_limit(Some(DETERMINIZE_SIZE_LIMIT)),
        )
        .build_from_nfa(&nfa(regexes, false)?)
        .map_err(|e| BuildFailure::TooBig {
            message: e.to_string(),
            pattern: None,
        })?;
    let rev = dense::Builder::new()
        .configure(
            dense::Config::new()
                .match_kind(MatchKind::All)
                .start_kind(StartKind::Anchored)
                .starts_for_each_pattern(true)
                .minimize(minimize)
                .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                .determinize_size_limit(Some(DETERMINIZE_SIZE_LIMIT)),
        )
        .build_from_nfa(&nfa(regexes, true)?)
        .map_err(|e| BuildFailure::TooBig {
            message: e.to_string(),
            pattern: None,
        })?;
    Ok((fwd, rev))
}
