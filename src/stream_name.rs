//! Stream names: the word shared by inputs (a source's or a rotated file's stream), sinks (segment file
//! names) and checkpoints. A stream name is safe as part of a file name.

/// Makes any text a stream name: ASCII letters, digits, `-`, `_`, `.`; anything else becomes `_`.
pub fn sanitize_stream(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_matches('.');
    if s.is_empty() {
        "stream".into()
    } else {
        s.chars().take(100).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_are_sanitized() {
        assert_eq!(sanitize_stream("output.log"), "output.log");
        assert_eq!(sanitize_stream("/var/log/x y"), "_var_log_x_y");
        assert_eq!(sanitize_stream(""), "stream");
        assert_eq!(sanitize_stream("..."), "stream");
    }
}
