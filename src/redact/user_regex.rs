//! User patterns: checked one by one so an error names the pattern and the column, then adapted to the DFA.
//!
//! Users write regexes for Python or PCRE: `\d`, `\w`, `\b` meaning ASCII, and `[\u4e00-\u9fa5]` meaning
//! Unicode. The DFA runs with Unicode classes on, so `\d`, `\w`, `\s` and `\b` are rewritten to their ASCII
//! forms (an ASCII `\b` is one a DFA can run; a Unicode one is not).

use regex_syntax::ast::{self, Ast, ClassPerlKind, ClassSetItem};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub message: String,
    /// 1-based column of the problem in the pattern (characters).
    pub column: usize,
    pub hint: Option<String>,
}

/// Checks a user regex and returns the form that goes into the DFA.
pub fn prepare(pattern: &str) -> Result<String, PatternError> {
    let ast = ast::parse::ParserBuilder::new()
        .build()
        .parse(pattern)
        .map_err(|e| {
            let hint = match e.kind() {
                ast::ErrorKind::UnsupportedLookAround => Some(
                    "a DFA cannot run look-around; drop it or use \\b or a character class \
                     (logveil's validators already check the boundaries of the built-in types)",
                ),
                ast::ErrorKind::UnsupportedBackreference => {
                    Some("a DFA cannot run backreferences; match the repeated part explicitly")
                }
                _ => None,
            };
            PatternError {
                message: e.kind().to_string(),
                column: e.span().start.column,
                hint: hint.map(str::to_string),
            }
        })?;
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(true)
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| {
            let (message, column) = match &e {
                regex_syntax::Error::Parse(p) => (p.kind().to_string(), p.span().start.column),
                regex_syntax::Error::Translate(t) => (t.kind().to_string(), t.span().start.column),
                other => (other.to_string(), 1),
            };
            PatternError {
                message,
                column,
                hint: None,
            }
        })?;
    if hir.properties().minimum_len() == Some(0) {
        return Err(PatternError {
            message: "the pattern can match empty text".into(),
            column: 1,
            hint: Some(
                "use + instead of * so that every match holds at least one character".into(),
            ),
        });
    }
    let mut edits = Vec::new();
    ast::visit(
        &ast,
        Collector {
            pattern,
            edits: &mut edits,
        },
    )
    .ok();
    edits.sort_by_key(|e: &(usize, usize, String)| std::cmp::Reverse(e.0));
    let mut out = pattern.to_string();
    for (start, end, text) in edits {
        out.replace_range(start..end, &text);
    }
    Ok(out)
}

struct Collector<'a> {
    pattern: &'a str,
    edits: &'a mut Vec<(usize, usize, String)>,
}

impl ast::Visitor for Collector<'_> {
    type Output = ();
    type Err = ();

    fn finish(self) -> Result<(), ()> {
        Ok(())
    }

    fn visit_pre(&mut self, node: &Ast) -> Result<(), ()> {
        use ast::AssertionKind::*;
        let span = match node {
            // Outside brackets: the same class, ASCII.
            Ast::ClassPerl(c) => c.span,
            Ast::Assertion(a)
                if matches!(
                    a.kind,
                    WordBoundary
                        | NotWordBoundary
                        | WordBoundaryStart
                        | WordBoundaryEnd
                        | WordBoundaryStartAngle
                        | WordBoundaryEndAngle
                        | WordBoundaryStartHalf
                        | WordBoundaryEndHalf
                ) =>
            {
                a.span
            }
            _ => return Ok(()),
        };
        let (s, e) = (span.start.offset, span.end.offset);
        self.edits
            .push((s, e, format!("(?-u:{})", &self.pattern[s..e])));
        Ok(())
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), ()> {
        if let ClassSetItem::Perl(c) = item {
            let text = match (&c.kind, c.negated) {
                (ClassPerlKind::Digit, false) => r"0-9",
                (ClassPerlKind::Digit, true) => r"\x00-/:-\x{10FFFF}",
                (ClassPerlKind::Word, false) => r"0-9A-Za-z_",
                (ClassPerlKind::Word, true) => r"\x00-/:-@\[-\^\x60\{-\x{10FFFF}",
                (ClassPerlKind::Space, false) => r"\t\n\x0B\x0C\r ",
                (ClassPerlKind::Space, true) => r"\x00-\x08\x0E-\x1F!-\x{10FFFF}",
            };
            self.edits
                .push((c.span.start.offset, c.span.end.offset, text.to_string()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perl_classes_and_word_boundaries_become_ascii() {
        assert_eq!(
            prepare(r"\b1[3-9]\d{9}\b").unwrap(),
            r"(?-u:\b)1[3-9](?-u:\d){9}(?-u:\b)"
        );
        assert_eq!(prepare(r"[\d_]+").unwrap(), r"[0-9_]+");
        assert_eq!(prepare(r"[\u4e00-\u9fa5]+").unwrap(), r"[\u4e00-\u9fa5]+");
    }

    #[test]
    fn look_around_is_refused_with_its_column_and_a_hint() {
        let e = prepare(r"abc(?=d)").unwrap_err();
        assert_eq!(e.column, 4);
        assert!(e.message.contains("look-around"), "{}", e.message);
        assert!(e.hint.is_some());
        let e = prepare(r"(a)\1").unwrap_err();
        assert!(e.message.contains("backreference"), "{}", e.message);
    }

    #[test]
    fn empty_matches_and_syntax_errors_are_refused() {
        assert!(prepare(r"\d*").is_err());
        let e = prepare(r"ab[c").unwrap_err();
        assert_eq!(e.column, 3);
    }
}
