//! How the one DFA is built from pattern strings. Shared, through `#[path]`, with `build.rs`, which builds
//! the built-in patterns' DFA at compile time (building it takes ~0.2 s; loading it takes microseconds).
//! Only regex-automata is used here, so the file compiles in both places.

use regex_automata::dfa::{dense, StartKind};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;
use regex_automata::MatchKind;

/// Limits that keep the DFA within the memory budget whatever users write.
pub const DFA_SIZE_LIMIT: usize = 12 << 20;
pub const DETERMINIZE_SIZE_LIMIT: usize = 24 << 20;

/// A dense DFA owning its transition table.
pub type Dfa = dense::DFA<Vec<u32>>;

/// Why building failed: the pattern text is at fault, or the DFA is too large.
#[derive(Debug)]
pub enum BuildFailure {
    Nfa(String),
    TooBig(String),
}

/// Builds the forward (leftmost-first, unanchored and per-pattern anchored starts, start states
/// specialized for the skip loop) and reverse (all matches, anchored) DFAs over raw bytes. `minimize`
/// merges equivalent states (a quarter fewer for the built-ins: a smaller table in the caches while
/// searching), at a few times the build time: build.rs does it for the DFA compiled into the binary.
pub fn build(regexes: &[&str], minimize: bool) -> Result<(Dfa, Dfa), BuildFailure> {
    let syntax = syntax::Config::new().unicode(true).utf8(false);
    let nfa = |reverse: bool| {
        thompson::Compiler::new()
            .syntax(syntax)
            .configure(
                thompson::Config::new()
                    .utf8(false)
                    .reverse(reverse)
                    .shrink(reverse)
                    .which_captures(thompson::WhichCaptures::None),
            )
            .build_many(regexes)
            .map_err(|e| BuildFailure::Nfa(e.to_string()))
    };
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
        .build_from_nfa(&nfa(false)?)
        .map_err(|e| BuildFailure::TooBig(e.to_string()))?;
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
        .build_from_nfa(&nfa(true)?)
        .map_err(|e| BuildFailure::TooBig(e.to_string()))?;
    Ok((fwd, rev))
}
