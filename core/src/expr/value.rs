//! Values of the expression language and XPath 1.0's conversions between them.

use std::fmt;

use crate::date::Date;

/// A value: what a field holds or an expression yields. An empty field is the empty string.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    Number(f64),
    Str(String),
    Date(Date),
}

impl Value {
    pub fn empty() -> Self {
        Value::Str(String::new())
    }

    /// True for the empty string (an unanswered field).
    pub fn is_empty(&self) -> bool {
        matches!(self, Value::Str(s) if s.is_empty())
    }

    /// XPath `boolean()`: non-zero numbers, non-empty strings and any date are true.
    pub fn to_bool(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::Str(s) => !s.is_empty(),
            Value::Date(_) => true,
        }
    }

    /// XPath `number()`: strings in XPath number syntax; a date or dateTime string (as the
    /// ODK specification has it), and a date, count days since 1970-01-01 (the time of day
    /// as a fraction); anything else is NaN.
    pub fn to_number(&self) -> f64 {
        match self {
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Number(n) => *n,
            Value::Str(s) => {
                let n = parse_number(s);
                if n.is_nan() {
                    super::funcs::DateTime::parse(s).map_or(f64::NAN, |at| at.days())
                } else {
                    n
                }
            }
            Value::Date(d) => f64::from(d.days()),
        }
    }

    /// XPath `string()`; whole numbers print without a decimal point, dates as `YYYY-MM-DD`.
    pub fn to_text(&self) -> String {
        self.to_string()
    }

    /// The value as a date: a date, a `YYYY-MM-DD` string, or a whole number of days.
    pub fn to_date(&self) -> Option<Date> {
        match self {
            Value::Date(d) => Some(*d),
            Value::Str(s) => super::funcs::DateTime::parse(s).map(|at| at.date),
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e8 => {
                Some(Date::from_days(*n as i32))
            }
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => format_number(*n, f),
            Value::Str(s) => f.write_str(s),
            Value::Date(d) => write!(f, "{d}"),
        }
    }
}

fn format_number(n: f64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if n.is_nan() {
        f.write_str("NaN")
    } else if n.is_infinite() {
        f.write_str(if n > 0.0 { "Infinity" } else { "-Infinity" })
    } else if n == 0.0 {
        f.write_str("0")
    } else if n.fract() == 0.0 && n.abs() < 1e15 {
        write!(f, "{}", n as i64)
    } else {
        write!(f, "{n}")
    }
}

/// XPath number syntax: optional minus, digits with at most one decimal point, surrounding
/// whitespace allowed. Anything else (exponents, `+`, `inf`) is NaN.
pub fn parse_number(s: &str) -> f64 {
    let t = s.trim();
    let body = t.strip_prefix('-').unwrap_or(t);
    let mut digits = 0;
    let mut points = 0;
    for c in body.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' => points += 1,
            _ => return f64::NAN,
        }
    }
    if digits == 0 || points > 1 {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_xpath_syntax() {
        assert_eq!(parse_number(" 17 "), 17.0);
        assert_eq!(parse_number("0017."), 17.0);
        assert_eq!(parse_number(".5"), 0.5);
        assert_eq!(parse_number("-3.25"), -3.25);
        for nan in [
            "", " ", "1e3", "+1", "inf", "NaN", "1.2.3", "-", ".", "12a", "--1",
        ] {
            assert!(parse_number(nan).is_nan(), "{nan:?}");
        }
    }

    #[test]
    fn numbers_print_like_xpath() {
        assert_eq!(Value::Number(5.0).to_string(), "5");
        assert_eq!(Value::Number(-0.0).to_string(), "0");
        assert_eq!(Value::Number(2.5).to_string(), "2.5");
        assert_eq!(Value::Number(f64::NAN).to_string(), "NaN");
        assert_eq!(Value::Number(f64::NEG_INFINITY).to_string(), "-Infinity");
    }

    #[test]
    fn dates_convert() {
        let d: Date = "2026-11-26".parse().unwrap();
        assert_eq!(Value::Date(d).to_string(), "2026-11-26");
        assert_eq!(Value::Str("2026-11-26".into()).to_date(), Some(d));
        assert_eq!(Value::Number(f64::from(d.days())).to_date(), Some(d));
        assert_eq!(Value::Str("soon".into()).to_date(), None);
        assert!(Value::Date(d).to_bool());
    }
}
