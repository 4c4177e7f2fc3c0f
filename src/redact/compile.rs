//! Compiling: an [`EngineConfig`] becomes the one DFA (built-in patterns first, then the user's), the
//! resolved actions, and the start tables of the search loop.

use regex_automata::dfa::{dense, Automaton};
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_automata::{Anchored, PatternID};

use super::actions::{render_template, Action, ActionKind, ActionSpec};
use super::detect::{Detector, Settings};
use super::dfa_build::{BuildFailure, Dfa};
use super::engine::{with_dfa, Engine, EngineDfa, PatternDescription, Source, UserInfo};
use super::patterns::{BUILTIN_DETECTORS, BUILTIN_PATTERNS};
use super::{EngineConfig, EngineError, UserPattern};

/// What the patterns compile to, before the DFA is built.
struct Plan {
    regexes: Vec<String>,
    /// Index and type of the user pattern behind each of the last `named.len()` regexes (to name one at
    /// fault when the DFA cannot be built).
    named: Vec<(usize, String)>,
    sources: Vec<Source>,
    users: Vec<UserInfo>,
    types: Vec<String>,
    actions: Vec<Action>,
    descriptions: Vec<PatternDescription>,
}

impl Engine {
    /// Compiles the enabled detectors and user patterns into one DFA.
    pub fn new(cfg: &EngineConfig) -> Result<Engine, EngineError> {
        let (on, mut plan) = Plan::with_detectors(cfg);
        // All built-in patterns go into the DFA whenever one detector is on (hits of disabled detectors are
        // dropped): the DFA of the built-ins is then the one compiled into the binary.
        let any_builtin = on.iter().any(|&o| o);
        let patterns: Vec<&UserPattern> = cfg
            .patterns
            .iter()
            .filter(|p| cfg.detection_enabled && p.enabled)
            .collect();
        // Covered patterns first: the first one of a detector's type gives the detector its action (before
        // the built-ins' descriptions read the actions).
        let covered = plan.cover(&patterns, &on, cfg);
        if any_builtin {
            plan.add_builtins(&on);
        }
        for (p, cover) in patterns.into_iter().zip(covered) {
            match cover {
                Some((det, takes)) => plan.note_covered(p, det, takes)?,
                None => plan.add_user(p, cfg)?,
            }
        }
        if !cfg.redaction_enabled {
            for a in &mut plan.actions {
                a.kind = ActionKind::Allow;
            }
        }
        let (fwd, rev) = if any_builtin && plan.users.is_empty() {
            builtin_dfas()?
        } else {
            let (fwd, rev) = build_dfas(&plan.regexes, &plan.named, cfg.dfa_store.as_deref())?;
            (EngineDfa::Owned(fwd), EngineDfa::Owned(rev))
        };
        let first_user = plan
            .sources
            .iter()
            .take_while(|s| matches!(s, Source::Builtin(_)))
            .count();
        let plan_numeric = plan
            .sources
            .iter()
            .position(|s| matches!(s, Source::Builtin(super::patterns::Handler::Numeric)));
        let mut engine = Engine {
            fwd,
            rev,
            sources: plan.sources,
            users: plan.users,
            types: plan.types,
            actions: plan.actions,
            settings: Settings {
                on,
                max_birth_year: cfg.max_birth_year,
            },
            hash_key: cfg.hash_key.clone(),
            first_user,
            numeric: plan_numeric,
            can_start: [false; 256],
            start_after: Vec::new(),
            start_none: StateID::ZERO,
            first_bytes: Vec::new(),
            lane_stop: 0,
            lanes: super::engine::MAX_LANES,
            descriptions: plan.descriptions,
        };
        engine.prepare_starts()?;
        Ok(engine)
    }

    /// Start states per look-behind byte, the set of bytes that can start a match, and per-pattern first bytes.
    fn prepare_starts(&mut self) -> Result<(), EngineError> {
        let start_for = |lb: Option<u8>| {
            with_dfa!(&self.fwd, d => d.start_state(&start::Config::new().anchored(Anchored::No).look_behind(lb)))
                .map_err(|e| EngineError::Build(format!("start state: {e}")))
        };
        self.start_none = start_for(None)?;
        let mut after = Vec::with_capacity(256);
        for b in 0..=255u8 {
            after.push(start_for(Some(b))?);
        }
        let mut contexts: Vec<StateID> = after.clone();
        contexts.push(self.start_none);
        contexts.sort();
        contexts.dedup();
        for b in 0..=255u8 {
            self.can_start[usize::from(b)] = contexts
                .iter()
                .any(|&s| with_dfa!(&self.fwd, d => d.next_state(s, b)) != after[usize::from(b)]);
        }
        self.start_after = after;
        self.lane_stop = with_dfa!(&self.fwd, d => lane_stop(d));
        self.first_bytes = (0..self.sources.len())
            .map(|pid| self.first_bytes_of(pid))
            .collect();
        Ok(())
    }

    /// The bytes pattern `pid` can start with (to try other patterns where a candidate failed).
    fn first_bytes_of(&self, pid: usize) -> [u64; 4] {
        let mut set = [0u64; 4];
        let cfg = start::Config::new().anchored(Anchored::Pattern(PatternID::new_unchecked(pid)));
        let mut starts = Vec::new();
        for lb in std::iter::once(None).chain((0..=255u8).map(Some)) {
            if let Ok(s) = with_dfa!(&self.fwd, d => d.start_state(&cfg.clone().look_behind(lb))) {
                starts.push(s);
            }
        }
        starts.sort();
        starts.dedup();
        for b in 0..=255u8 {
            if starts
                .iter()
                .any(|&s| with_dfa!(&self.fwd, d => !d.is_dead_state(d.next_state(s, b))))
            {
                set[usize::from(b >> 6)] |= 1 << (b & 63);
            }
        }
        set
    }
}

/// The lowest start state's id when every state below it is the dead, the quit or a match state (states are
/// laid out dead, quit, matches, then start states, when the DFA has no accelerated states); 0 otherwise.
fn lane_stop<T: AsRef<[u32]>>(d: &dense::DFA<T>) -> usize {
    for k in 0.. {
        let id = StateID::new_unchecked(k << d.stride2());
        if d.is_start_state(id) || !d.is_special_state(id) {
            return id.as_usize();
        }
        if !(d.is_dead_state(id) || d.is_quit_state(id) || d.is_match_state(id)) {
            return 0;
        }
    }
    0
}

impl Plan {
    /// The built-in detectors' settings: which run, and their actions (type ids 0..8).
    fn with_detectors(cfg: &EngineConfig) -> ([bool; Detector::COUNT], Plan) {
        let mut on = [false; Detector::COUNT];
        let mut plan = Plan {
            regexes: Vec::new(),
            named: Vec::new(),
            sources: Vec::new(),
            users: Vec::new(),
            types: BUILTIN_DETECTORS
                .iter()
                .map(|d| d.name.to_string())
                .collect(),
            actions: Vec::new(),
            descriptions: Vec::new(),
        };
        for det in Detector::ALL {
            let setting = cfg.detectors.iter().find(|s| s.name == det.name());
            on[det.index()] = cfg.detection_enabled && setting.is_none_or(|s| s.enabled);
            let spec = setting.map_or_else(|| ActionSpec::default_for(det), |s| s.action.clone());
            let keep = BUILTIN_DETECTORS[det.index()].mask_keep;
            let action = resolve_action(&spec, det.index(), det.name(), Some(det), keep, cfg);
            plan.actions.push(action);
        }
        (on, plan)
    }

    fn add_builtins(&mut self, on: &[bool; Detector::COUNT]) {
        for bp in BUILTIN_PATTERNS {
            self.regexes.push(bp.regex.to_string());
            self.sources.push(Source::Builtin(bp.handler));
            let dets: Vec<Detector> = bp
                .detectors
                .iter()
                .copied()
                .filter(|d| on[d.index()])
                .collect();
            if dets.is_empty() {
                continue;
            }
            let names: Vec<&str> = dets.iter().map(|d| d.name()).collect();
            let acts: Vec<&str> = dets
                .iter()
                .map(|d| self.actions[d.index()].kind.name())
                .collect();
            self.descriptions.push(PatternDescription {
                type_name: names.join(","),
                origin: format!("built-in {:?}", bp.handler),
                action: acts.join(","),
            });
        }
    }

    fn add_user(&mut self, p: &UserPattern, cfg: &EngineConfig) -> Result<(), EngineError> {
        let rewritten = p.prepare()?;
        let type_id = match self.types.iter().position(|t| *t == p.kind) {
            Some(t) => t,
            None => {
                self.types.push(p.kind.clone());
                self.types.len() - 1
            }
        };
        let builtin = Detector::from_name(&p.kind);
        let validator = builtin.filter(|_| p.validate);
        let keep = validator.map_or((0, 0), |d| BUILTIN_DETECTORS[d.index()].mask_keep);
        self.actions.push(resolve_action(
            &p.action, type_id, &p.kind, builtin, keep, cfg,
        ));
        self.users.push(UserInfo {
            type_id,
            action: self.actions.len() - 1,
            validator,
        });
        self.sources.push(Source::User {
            index: self.users.len() - 1,
        });
        self.descriptions.push(PatternDescription {
            type_name: p.kind.clone(),
            origin: format!("patterns[{}] {}", p.index, p.regex),
            action: p.action.kind.name().to_string(),
        });
        self.regexes.push(rewritten);
        self.named.push((p.index, p.kind.clone()));
        Ok(())
    }
}

/// A user pattern of a built-in detector's type, validated by it, while that detector runs: every value it
/// could take is one the detector takes (the same decision on every number, address and key, and the
/// detector's DFA candidates start wherever a number or an `@` is), so it is not compiled: the detector
/// decides, with the pattern's action (the first such pattern's, unless `logveil.detectors.<type>` sets
/// one). The seed's four patterns are such: with them the engine is the built-in one, compiled into the
/// binary, whatever their action. (Compiled, such a pattern made the DFA several times larger, and the
/// detector's own hit, tried first, kept its action on values the pattern also matched.)
fn covered_by_builtin(p: &UserPattern, on: &[bool; Detector::COUNT]) -> Option<Detector> {
    let det = Detector::from_name(&p.kind).filter(|_| p.validate)?;
    let decided = !matches!(det, Detector::Secret | Detector::Password) && !det.is_identifier();
    (decided && on[det.index()]).then_some(det)
}

impl Plan {
    /// For each pattern, whether a built-in detector covers it (see [`covered_by_builtin`]): the detector,
    /// and whether it took the pattern's action (the first such pattern of each type, unless the detector's
    /// action is set in the config).
    fn cover(
        &mut self,
        patterns: &[&UserPattern],
        on: &[bool; Detector::COUNT],
        cfg: &EngineConfig,
    ) -> Vec<Option<(Detector, bool)>> {
        let mut adopted = [false; Detector::COUNT];
        patterns
            .iter()
            .map(|p| {
                let det = covered_by_builtin(p, on)?;
                let set = cfg
                    .detectors
                    .iter()
                    .find(|s| s.name == det.name())
                    .is_some_and(|s| s.action != ActionSpec::redact());
                let takes = !set && !adopted[det.index()];
                if takes {
                    adopted[det.index()] = true;
                    let keep = BUILTIN_DETECTORS[det.index()].mask_keep;
                    self.actions[det.index()] =
                        resolve_action(&p.action, det.index(), det.name(), Some(det), keep, cfg);
                }
                Some((det, takes))
            })
            .collect()
    }

    /// A pattern covered by a built-in detector: checked (its errors are reported as any other's) and listed
    /// for `config check`, not compiled. `takes`: the detector took its action.
    fn note_covered(
        &mut self,
        p: &UserPattern,
        det: Detector,
        takes: bool,
    ) -> Result<(), EngineError> {
        p.prepare()?;
        let used = self.actions[det.index()].kind.name();
        let how = if takes {
            "the detector decides, with this action".to_string()
        } else if p.action.kind.name() == used {
            "the detector decides".to_string()
        } else {
            format!("the detector decides, with its action {used}: this one is not used")
        };
        self.descriptions.push(PatternDescription {
            type_name: p.kind.clone(),
            origin: format!(
                "patterns[{}] {} (covered by the built-in detector, not compiled: {how})",
                p.index, p.regex
            ),
            action: p.action.kind.name().to_string(),
        });
        Ok(())
    }
}

fn resolve_action(
    spec: &ActionSpec,
    type_id: usize,
    type_name: &str,
    det: Option<Detector>,
    default_keep: (usize, usize),
    cfg: &EngineConfig,
) -> Action {
    let template = spec.replacement.as_deref().unwrap_or(&cfg.replacement);
    let kind = match spec.kind {
        ActionKind::HashIfKeyed if cfg.hash_key.is_some() => ActionKind::Hash,
        ActionKind::HashIfKeyed => ActionKind::Redact,
        k => k,
    };
    Action {
        kind,
        type_id,
        det,
        replacement: render_template(template, type_name),
        keep: (
            spec.keep_prefix.unwrap_or(default_keep.0),
            spec.keep_suffix.unwrap_or(default_keep.1),
        ),
    }
}

/// `users` are (index, type) of the user patterns behind the last `users.len()` regexes.
/// `store` keeps the DFAs between runs (see [`super::dfa_store`]).
fn build_dfas(
    regexes: &[String],
    users: &[(usize, String)],
    store: Option<&dyn super::DfaStore>,
) -> Result<(Dfa, Dfa), EngineError> {
    let refs: Vec<&str> = regexes.iter().map(String::as_str).collect();
    let first_user = regexes.len() - users.len();
    let user = |i: Option<usize>| {
        i.and_then(|i| i.checked_sub(first_user))
            .and_then(|i| users.get(i))
    };
    super::dfa_store::load_or_build(&refs, store).map_err(|f| match f {
        // The built-in patterns build on their own: with one user pattern, it is the one that makes the
        // DFA too large.
        BuildFailure::TooBig { message, pattern } => {
            match user(pattern).or_else(|| (users.len() == 1).then(|| &users[0])) {
                Some((index, kind)) => EngineError::PatternTooBig {
                    index: *index,
                    type_name: kind.clone(),
                    message,
                },
                None => EngineError::TooBig(message),
            }
        }
        BuildFailure::Nfa { message, pattern } => match user(pattern) {
            Some((index, kind)) => EngineError::InvalidPattern {
                index: *index,
                type_name: kind.clone(),
                message,
                column: 1,
                hint: None,
            },
            None => EngineError::Build(format!("NFA: {message}")),
        },
    })
}

/// The built-in patterns' DFAs, built at compile time by build.rs (validated when loaded).
fn builtin_dfas() -> Result<(EngineDfa, EngineDfa), EngineError> {
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
            .map(|(dfa, _)| EngineDfa::Builtin(dfa))
            .map_err(|e| EngineError::Build(format!("built-in DFA: {e}")))
    };
    Ok((load(FWD)?, load(REV)?))
}
