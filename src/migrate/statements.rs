//! ISC's statements over the tokens (`lexer`): a statement ends at `;` or
//! is a head followed by a `{ ... }` block (which may nest). Both dhcpd.leases
//! and dhcpd.conf are lists of these.

use super::lexer::{Kind, Token};

/// One statement: its head (up to `;` or `{`) and, for a block, the tokens
/// inside the braces.
#[derive(Clone, Debug)]
pub struct Statement<'a> {
    /// Tokens before the `;` or `{`.
    pub head: &'a [Token],
    /// Tokens between the braces, for a block statement.
    pub body: Option<&'a [Token]>,
    /// Line of the statement's first token.
    pub line: usize,
}

/// The tokens do not form statements: an unmatched brace, or a statement
/// without its `;` at the end.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct SyntaxError {
    /// Where the problem starts.
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

/// The statements of `tokens`, in order. Errors: a `}` without its `{`, a
/// block never closed, or tokens after the last `;`.
pub fn statements(tokens: &[Token]) -> Result<Vec<Statement<'_>>, SyntaxError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let line = tokens[i].line;
        let end = tokens[i..]
            .iter()
            .position(|t| matches!(t.kind, Kind::Punct(';' | '{' | '}')))
            .map(|p| i + p);
        let Some(j) = end else {
            let what = "statement does not end with ';'".to_string();
            return Err(SyntaxError { line, what });
        };
        match tokens[j].kind {
            Kind::Punct(';') => {
                out.push(Statement {
                    head: &tokens[i..j],
                    body: None,
                    line,
                });
                i = j + 1;
            }
            Kind::Punct('{') => {
                let close = matching(tokens, j)?;
                let body = Some(&tokens[j + 1..close]);
                out.push(Statement {
                    head: &tokens[i..j],
                    body,
                    line,
                });
                i = close + 1;
                if tokens.get(i).is_some_and(|t| t.kind == Kind::Punct(';')) {
                    i += 1;
                }
            }
            _ => {
                let what = "'}' without its '{'".to_string();
                return Err(SyntaxError {
                    line: tokens[j].line,
                    what,
                });
            }
        }
    }
    Ok(out)
}

/// Index of the `}` closing the `{` at `open`.
fn matching(tokens: &[Token], open: usize) -> Result<usize, SyntaxError> {
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate().skip(open) {
        match t.kind {
            Kind::Punct('{') => depth += 1,
            Kind::Punct('}') => {
                depth -= 1;
                if depth == 0 {
                    return Ok(k);
                }
            }
            _ => {}
        }
    }
    Err(SyntaxError {
        line: tokens[open].line,
        what: "'{' is never closed".into(),
    })
}

/// The words of a head, with strings shown quoted: for reports.
pub fn show(head: &[Token]) -> String {
    head.iter()
        .map(|t| match &t.kind {
            Kind::Word(w) => w.clone(),
            Kind::Str(s) => format!("{:?}", String::from_utf8_lossy(s)),
            Kind::Punct(c) => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokens;
    use super::*;

    #[test]
    fn simple_and_nested_block_statements() {
        let t = tokens("a b;\nlease x { on expiry { set y = 1; } c; }\nd;").unwrap();
        let s = statements(&t).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(show(s[0].head), "a b");
        assert_eq!(show(s[1].head), "lease x");
        let inner = statements(s[1].body.unwrap()).unwrap();
        assert_eq!(inner.len(), 2);
        assert_eq!((s[2].line, show(s[2].head).as_str()), (3, "d"));
    }

    #[test]
    fn unbalanced_braces_and_a_missing_semicolon_name_their_line() {
        for (text, line) in [("a;\nb {\n c;\n", 2), ("a;\n}\n", 2), ("a;\nb c\n", 2)] {
            let t = tokens(text).unwrap();
            assert_eq!(statements(&t).unwrap_err().line, line, "{text:?}");
        }
    }
}
