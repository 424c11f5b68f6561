//! Tokens of ISC dhcpd's configuration language, which its lease file
//! (dhcpd.leases) also uses: words, quoted strings with C escapes,
//! `{ } ; = ,` and `#` comments to the end of the line. Each token keeps its
//! line (1-based) for the reports.

/// One token and the line it starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The token.
    pub kind: Kind,
    /// Line (1-based) where it starts.
    pub line: usize,
}

/// What a token is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A bare word: keyword, number, address, date, `52:54:00:...`.
    Word(String),
    /// A quoted string's octets, escapes resolved (`\"`, `\\`, `\n`, `\t`, `\ooo`).
    Str(Vec<u8>),
    /// One of `{ } ; = ,`.
    Punct(char),
}

/// A string runs to the end of the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: string not closed before the end of the file")]
pub struct LexError {
    /// Line where the string starts.
    pub line: usize,
}

const PUNCT: &[char] = &['{', '}', ';', '=', ','];

/// The tokens of `text`. Errors: an unterminated string.
pub fn tokens(text: &str) -> Result<Vec<Token>, LexError> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut line = 1;
    while let Some((i, c)) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '#' => while chars.next_if(|(_, c)| *c != '\n').is_some() {},
            '"' => {
                let start = line;
                let s = string(&mut chars, &mut line).ok_or(LexError { line: start })?;
                out.push(Token {
                    kind: Kind::Str(s),
                    line: start,
                });
            }
            c if PUNCT.contains(&c) => out.push(Token {
                kind: Kind::Punct(c),
                line,
            }),
            _ => {
                let mut end = i + c.len_utf8();
                while let Some((j, d)) = chars.next_if(|(_, d)| {
                    !d.is_whitespace() && !PUNCT.contains(d) && !matches!(d, '"' | '#')
                }) {
                    end = j + d.len_utf8();
                }
                out.push(Token {
                    kind: Kind::Word(text[i..end].to_string()),
                    line,
                });
            }
        }
    }
    Ok(out)
}

/// The rest of a quoted string after its opening quote; `None` at the end
/// of the text.
fn string(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    line: &mut usize,
) -> Option<Vec<u8>> {
    let mut s = Vec::new();
    loop {
        let (_, c) = chars.next()?;
        match c {
            '"' => return Some(s),
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' => s.push(b'\n'),
                    't' => s.push(b'\t'),
                    'r' => s.push(b'\r'),
                    '0'..='7' => {
                        let mut v = e.to_digit(8)?;
                        for _ in 0..2 {
                            match chars.next_if(|(_, d)| d.is_digit(8)) {
                                Some((_, d)) => v = v * 8 + d.to_digit(8)?,
                                None => break,
                            }
                        }
                        s.push((v & 0xff) as u8);
                    }
                    other => push_char(&mut s, other),
                }
            }
            '\n' => {
                *line += 1;
                s.push(b'\n');
            }
            c => push_char(&mut s, c),
        }
    }
}

fn push_char(s: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    s.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_strings_punctuation_comments_and_lines() {
        let t = tokens("lease 10.0.0.1 { # a comment\n  uid \"\\001RT\\\"x\";\n}").unwrap();
        let kinds: Vec<Kind> = t.iter().map(|t| t.kind.clone()).collect();
        assert_eq!(
            kinds,
            [
                Kind::Word("lease".into()),
                Kind::Word("10.0.0.1".into()),
                Kind::Punct('{'),
                Kind::Word("uid".into()),
                Kind::Str(vec![1, b'R', b'T', b'"', b'x']),
                Kind::Punct(';'),
                Kind::Punct('}'),
            ]
        );
        assert_eq!(t[3].line, 2);
        assert_eq!(t[6].line, 3);
    }

    #[test]
    fn an_unterminated_string_names_its_line() {
        assert_eq!(tokens("a;\nb \"open\n\n").unwrap_err().line, 2);
    }
}
