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
//! Not supported, on purpose: paths (`/data/x`, `../x`), `regex()` (a regular-expression
//! engine would add far more to the phone's download than any form here needs), and the
//! `jr:`/`pulldata` family.

mod eval;
mod lexer;
mod parser;
mod value;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::date::Date;
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
}

/// A `${field}` inside an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference<'a> {
    pub name: &'a str,
    /// The reference is the argument of `count()`: it names a repeat group.
    pub counted: bool,
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
        fn walk<'a>(node: &'a Node, counted: bool, out: &mut Vec<Reference<'a>>) {
            match node {
                Node::Field(name) => out.push(Reference { name, counted }),
                Node::Neg(inner) => walk(inner, false, out),
                Node::Bin(_, a, b) => {
                    walk(a, false, out);
                    walk(b, false, out);
                }
                Node::Call(func, args) => {
                    let counts = *func == Func::Count;
                    args.iter().for_each(|a| walk(a, counts, out));
                }
                Node::Num(_) | Node::Str(_) | Node::Current => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.root, false, &mut out);
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
