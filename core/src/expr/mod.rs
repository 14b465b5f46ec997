//! The expression language of forms: `relevant`, `constraint` and `calculation`, in XLSForm
//! syntax (`${field}`, `.`, XPath operators and functions).
//!
//! Parse once with [`Expr::parse`] (errors name the column), then evaluate as often as needed
//! against an [`Env`] that supplies field values. Evaluation never fails: like XPath, a value
//! that does not fit becomes NaN, an empty string or false.
//!
//! ```
//! use cris_core::expr::{Expr, Value, testing::MapEnv};
//!
//! let adult = Expr::parse("${age} >= 18 and selected(${benefits}, 'buergergeld')").unwrap();
//! let env = MapEnv::new().with("age", "34").with("benefits", "kindergeld buergergeld");
//! assert_eq!(adult.eval(&env), Value::Bool(true));
//!
//! let err = Expr::parse("${age} >= (18").unwrap_err();
//! assert_eq!(err.to_string(), "column 11: this `(` is never closed");
//! ```
//!
//! The functions are those of XLSForms in the field (see [`Func`]), with ODK's semantics where
//! JavaRosa or the ODK XForms specification documents them. Where the two differ we follow
//! the specification: a `YYYY-MM-DD` string counts as a date in arithmetic and comparisons
//! (`"2021-11-30" - "2021-11-29"` is 1), and `max()` of negative numbers is the largest of
//! them. `regex()` matches the whole string with the `regex-lite` engine (Rust syntax: no
//! look-around or back-references, no Unicode classes). `floor()` and `ceiling()` are XPath
//! 1.0's, which Enketo has and JavaRosa lacks.
//!
//! Not supported, on purpose: paths (`/data/x`, `../x`; `position(..)` is read as the
//! instance of the repeat group around), and the `jr:`/`pulldata` family.

mod eval;
mod funcs;
mod lexer;
mod parser;
mod value;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::date::Date;
use crate::lang::Lang;
pub use lexer::is_field_name;
pub use parser::Func;
use parser::Node;
pub use value::{Value, parse_number};

/// What an expression can see while it is evaluated.
pub trait Env {
    /// The value of `${name}`; inside a repeat group, the field of the same repeat instance.
    /// Unanswered or unknown fields are the empty string.
    fn field(&self, name: &str) -> Value;
    /// `.`: the value of the field the expression belongs to (in a constraint).
    fn current(&self) -> Value;
    /// `count(${name})`: how many instances the repeat group has.
    fn repeat_count(&self, name: &str) -> usize;
    /// `today()`: the device's current date, given by the caller (core reads no clock).
    fn today(&self) -> Date;
    /// `now()`: the device's clock (milliseconds since 1970, UTC) and its offset from UTC in
    /// minutes; none: `now()` is today's date.
    fn now(&self) -> Option<(i64, i32)> {
        None
    }
    /// `uuid()`: a new random UUID, made outside core; none: the empty string.
    fn uuid(&self) -> Option<String> {
        None
    }
    /// The language `format-date` writes month and day names in.
    fn lang(&self) -> Lang {
        Lang::En
    }
    /// `sum()`, `min()`, `max()` of a field: its value in every instance of the repeat group
    /// it is in; a field outside one: its value.
    fn values(&self, name: &str) -> Vec<Value> {
        vec![self.field(name)]
    }
    /// `position(..)`: the number (from 1) of the repeat instance being evaluated; 0 outside.
    fn position(&self) -> usize {
        0
    }
    /// `indexed-repeat(${field}, ${repeat}, n)`: `field` in the `n`th (from 1) instance of
    /// `repeat`; empty when there is none.
    fn indexed(&self, field: &str, repeat: &str, n: usize) -> Value {
        let _ = (field, repeat, n);
        Value::empty()
    }
}

/// The moment an expression is evaluated at, as the device gives it: core reads no clock and
/// makes no random numbers. From a date alone (the server checking a submission), `now()` is
/// that date and `uuid()` is empty.
#[derive(Clone, Copy, Debug)]
pub struct Moment {
    pub today: Date,
    /// Milliseconds since 1970 (UTC), and the offset from UTC in minutes.
    pub now: Option<(i64, i32)>,
    /// Makes a new random UUID (version 4).
    pub uuid: Option<fn() -> String>,
    /// The language of month and day names (`format-date`).
    pub lang: Lang,
}

impl From<Date> for Moment {
    fn from(today: Date) -> Moment {
        Moment {
            today,
            now: None,
            uuid: None,
            lang: Lang::En,
        }
    }
}

/// A `${field}` inside an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference<'a> {
    pub name: &'a str,
    /// The reference names a repeat group (`count()`, and the group of `indexed-repeat()`).
    pub counted: bool,
    /// The reference reads a field across the instances of its repeat group (`sum()`,
    /// `min()`, `max()`, `indexed-repeat()`), from outside the group too.
    pub across: bool,
}

/// A parse error, at a 1-based character column of the expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

impl ParseError {
    fn new(column: usize, message: String) -> Self {
        ParseError { column, message }
    }
}

/// A parsed expression, with its source text kept for messages and serialisation.
#[derive(Clone, Debug)]
pub struct Expr {
    source: String,
    root: Node,
}

impl Expr {
    pub fn parse(source: &str) -> Result<Self, ParseError> {
        let tokens = lexer::tokenize(source)?;
        let root = parser::parse(&tokens, source.chars().count())?;
        Ok(Expr {
            source: source.to_owned(),
            root,
        })
    }

    pub fn eval(&self, env: &dyn Env) -> Value {
        eval::eval(&self.root, env)
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Every `${field}` the expression reads, in order of appearance, repeats included.
    pub fn field_refs(&self) -> Vec<&str> {
        self.references().into_iter().map(|r| r.name).collect()
    }

    /// Every `${field}` the expression reads, each marked when it is the repeat group
    /// counted by `count()` rather than a value.
    pub fn references(&self) -> Vec<Reference<'_>> {
        fn walk<'a>(node: &'a Node, (counted, across): (bool, bool), out: &mut Vec<Reference<'a>>) {
            let plain = (false, false);
            match node {
                Node::Field(name) => out.push(Reference {
                    name,
                    counted,
                    across,
                }),
                Node::Neg(inner) => walk(inner, plain, out),
                Node::Bin(_, a, b) => {
                    walk(a, plain, out);
                    walk(b, plain, out);
                }
                Node::Call(func, args) => {
                    for (i, arg) in args.iter().enumerate() {
                        let how = match (func, i) {
                            (Func::Count, _) | (Func::IndexedRepeat, 1) => (true, false),
                            (Func::IndexedRepeat, 0) | (Func::Sum | Func::Min | Func::Max, _) => {
                                (false, true)
                            }
                            _ => plain,
                        };
                        walk(arg, how, out);
                    }
                }
                Node::Num(_) | Node::Str(_) | Node::Current => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.root, (false, false), &mut out);
        out
    }

    /// Whether the expression reads `.`, the field's own value.
    pub fn uses_current(&self) -> bool {
        fn walk(node: &Node) -> bool {
            match node {
                Node::Current => true,
                Node::Neg(inner) => walk(inner),
                Node::Bin(_, a, b) => walk(a) || walk(b),
                Node::Call(_, args) => args.iter().any(walk),
                Node::Num(_) | Node::Str(_) | Node::Field(_) => false,
            }
        }
        walk(&self.root)
    }

    /// The expression fully parenthesised; it parses back to the same expression.
    pub fn canonical(&self) -> String {
        self.root.to_string()
    }
}

/// Two expressions are equal when they parse to the same tree, however they are spaced.
impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.root == other.root
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        Expr::parse(&source)
            .map_err(|e| serde::de::Error::custom(format!("in expression {source:?}: {e}")))
    }
}

/// An [`Env`] over a map of field values, for tests and examples.
pub mod testing {
    use std::collections::HashMap;

    use super::{Env, Value};
    use crate::date::Date;

    #[derive(Debug, Clone)]
    pub struct MapEnv {
        pub fields: HashMap<String, Value>,
        pub repeats: HashMap<String, usize>,
        pub current: Value,
        pub today: Date,
    }

    impl Default for MapEnv {
        fn default() -> Self {
            MapEnv {
                fields: HashMap::new(),
                repeats: HashMap::new(),
                current: Value::empty(),
                today: Date::from_ymd(2026, 11, 26).expect("a real day"),
            }
        }
    }

    impl MapEnv {
        pub fn new() -> Self {
            Self::default()
        }

        /// Adds a field holding text (as a form field holds its answer).
        pub fn with(mut self, name: &str, value: &str) -> Self {
            self.fields
                .insert(name.to_owned(), Value::Str(value.to_owned()));
            self
        }

        pub fn with_value(mut self, name: &str, value: Value) -> Self {
            self.fields.insert(name.to_owned(), value);
            self
        }
    }

    impl Env for MapEnv {
        fn field(&self, name: &str) -> Value {
            self.fields.get(name).cloned().unwrap_or_else(Value::empty)
        }
        fn current(&self) -> Value {
            self.current.clone()
        }
        fn repeat_count(&self, name: &str) -> usize {
            self.repeats.get(name).copied().unwrap_or(0)
        }
        fn today(&self) -> Date {
            self.today
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_functions;
