//! Splits an expression into tokens, each with the character column it starts at.

use super::ParseError;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Number(f64),
    Str(String),
    /// `${name}`
    Field(String),
    /// `.` on its own: the current field.
    Dot,
    LParen,
    RParen,
    Comma,
    Plus,
    Minus,
    Star,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// A bare name: an operator word (`and`, `div`, ...) or a function name.
    Name(String),
}

/// A token and the 1-based character column where it starts.
pub type Spanned = (Tok, usize);

pub fn tokenize(src: &str) -> Result<Vec<Spanned>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        let single = |tok| Some((tok, 1));
        let simple = match c {
            '(' => single(Tok::LParen),
            ')' => single(Tok::RParen),
            ',' => single(Tok::Comma),
            '+' => single(Tok::Plus),
            '-' => single(Tok::Minus),
            '*' => single(Tok::Star),
            '=' => single(Tok::Eq),
            '!' if chars.get(i + 1) == Some(&'=') => Some((Tok::Ne, 2)),
            '<' if chars.get(i + 1) == Some(&'=') => Some((Tok::Le, 2)),
            '>' if chars.get(i + 1) == Some(&'=') => Some((Tok::Ge, 2)),
            '<' => single(Tok::Lt),
            '>' => single(Tok::Gt),
            _ => None,
        };
        if let Some((tok, len)) = simple {
            out.push((tok, col));
            i += len;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            if text.matches('.').count() > 1 {
                return Err(ParseError::new(col, format!("malformed number {text:?}")));
            }
            let n = text
                .parse::<f64>()
                .map_err(|_| ParseError::new(col, format!("malformed number {text:?}")))?;
            out.push((Tok::Number(n), col));
        } else if c == '.' {
            out.push((Tok::Dot, col));
            i += 1;
        } else if c == '\'' || c == '"' {
            let end = chars[i + 1..].iter().position(|&q| q == c).ok_or_else(|| {
                ParseError::new(col, "unterminated string: add the closing quote".to_owned())
            })?;
            out.push((Tok::Str(chars[i + 1..i + 1 + end].iter().collect()), col));
            i += end + 2;
        } else if c == '$' {
            if chars.get(i + 1) != Some(&'{') {
                return Err(ParseError::new(
                    col,
                    "expected `{` after `$` (write ${field})".to_owned(),
                ));
            }
            let end = chars[i + 2..]
                .iter()
                .position(|&q| q == '}')
                .ok_or_else(|| {
                    ParseError::new(col, "unterminated field reference: add `}`".to_owned())
                })?;
            let name: String = chars[i + 2..i + 2 + end].iter().collect();
            if !is_field_name(&name) {
                return Err(ParseError::new(col, format!("invalid field name {name:?}")));
            }
            out.push((Tok::Field(name), col));
            i += end + 3;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | '-' | ':'))
            {
                i += 1;
            }
            // A trailing hyphen belongs to a following minus: `a-` in `x div-1` is not a name.
            while chars[i - 1] == '-' {
                i -= 1;
            }
            out.push((Tok::Name(chars[start..i].iter().collect()), col));
        } else {
            return Err(ParseError::new(col, format!("unexpected character {c:?}")));
        }
    }
    Ok(out)
}

/// Field names as XLSForm allows them: a letter or `_`, then letters, digits, `_`, `-`, `.`.
pub fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}
