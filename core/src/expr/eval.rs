//! Evaluation with XPath 1.0 semantics, as ODK's JavaRosa applies them to forms.

use super::Env;
use super::funcs::{self, DateTime};
use super::parser::{Func, Node, Op};
use super::value::Value;

/// JavaRosa's tolerance for numeric equality: `6.1 - 7.8 = -1.7` is true.
const EPSILON: f64 = 1e-12;

pub fn eval(node: &Node, env: &dyn Env) -> Value {
    match node {
        Node::Num(n) => Value::Number(*n),
        Node::Str(s) => Value::Str(s.clone()),
        Node::Field(name) => env.field(name),
        Node::Current => env.current(),
        Node::Neg(inner) => Value::Number(-eval(inner, env).to_number()),
        Node::Bin(op, a, b) => binary(*op, a, b, env),
        Node::Call(func, args) => call(*func, args, env),
    }
}

fn binary(op: Op, a: &Node, b: &Node, env: &dyn Env) -> Value {
    // `and` and `or` do not evaluate their right side when the left decides.
    match op {
        Op::Or => return Value::Bool(eval(a, env).to_bool() || eval(b, env).to_bool()),
        Op::And => return Value::Bool(eval(a, env).to_bool() && eval(b, env).to_bool()),
        _ => {}
    }
    let (x, y) = (eval(a, env), eval(b, env));
    match op {
        Op::Eq => Value::Bool(equals(&x, &y)),
        Op::Ne => Value::Bool(!equals(&x, &y)),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let (l, r) = (comparable(&x, &y), comparable(&y, &x));
            Value::Bool(match op {
                Op::Lt => l < r,
                Op::Le => l <= r,
                Op::Gt => l > r,
                _ => l >= r,
            })
        }
        Op::Add => Value::Number(x.to_number() + y.to_number()),
        Op::Sub => Value::Number(x.to_number() - y.to_number()),
        Op::Mul => Value::Number(x.to_number() * y.to_number()),
        Op::Div => Value::Number(x.to_number() / y.to_number()),
        // Truncated remainder, as Java's `%` (and Rust's on f64): -5 mod 3 = -2.
        Op::Mod => Value::Number(x.to_number() % y.to_number()),
        Op::Or | Op::And => unreachable!("handled above"),
    }
}

/// XPath 1.0 `=` for single values: booleans if either is one, then numbers, then strings.
/// A date equals a value that reads as the same date.
fn equals(a: &Value, b: &Value) -> bool {
    use Value::{Bool, Date, Number, Str};
    match (a, b) {
        (Bool(_), _) | (_, Bool(_)) => a.to_bool() == b.to_bool(),
        (Date(d), other) | (other, Date(d)) => other.to_date() == Some(*d),
        (Number(_), _) | (_, Number(_)) => {
            let (x, y) = (a.to_number(), b.to_number());
            x == y || (x - y).abs() < EPSILON
        }
        (Str(x), Str(y)) => x == y,
    }
}

/// The number a relational operator compares: days for a date, or for a value compared with
/// a date; else XPath `number()`.
fn comparable(v: &Value, other: &Value) -> f64 {
    if matches!(other, Value::Date(_)) {
        v.to_date().map_or(f64::NAN, |d| f64::from(d.days()))
    } else {
        v.to_number()
    }
}

fn call(func: Func, args: &[Node], env: &dyn Env) -> Value {
    let arg = |i: usize| eval(&args[i], env);
    let text = |i: usize| arg(i).to_text();
    match func {
        Func::True => Value::Bool(true),
        Func::False => Value::Bool(false),
        Func::Not => Value::Bool(!arg(0).to_bool()),
        Func::If => {
            if arg(0).to_bool() {
                arg(1)
            } else {
                arg(2)
            }
        }
        Func::Selected => {
            let list = text(0);
            let item = text(1);
            let item = item.trim();
            Value::Bool(list.split_whitespace().any(|choice| choice == item))
        }
        Func::CountSelected => Value::Number(text(0).split_whitespace().count() as f64),
        Func::Count => match &args[0] {
            Node::Field(name) => Value::Number(env.repeat_count(name) as f64),
            _ => Value::Number(f64::NAN),
        },
        Func::Today => Value::Date(env.today()),
        Func::StringLength => Value::Number(text(0).chars().count() as f64),
        Func::Concat => Value::Str((0..args.len()).map(text).collect()),
        // Empty is the empty string or a number that is none (NaN), as in JavaRosa.
        Func::Coalesce => {
            let first = arg(0);
            let empty = match &first {
                Value::Number(n) => n.is_nan(),
                other => other.is_empty(),
            };
            if empty { arg(1) } else { first }
        }
        Func::Contains => Value::Bool(text(0).contains(&text(1))),
        Func::StartsWith => Value::Bool(text(0).starts_with(&text(1))),
        Func::EndsWith => Value::Bool(text(0).ends_with(&text(1))),
        Func::Number => Value::Number(arg(0).to_number()),
        Func::String => Value::Str(text(0)),
        Func::Boolean => Value::Bool(arg(0).to_bool()),
        Func::Int => Value::Number(arg(0).to_number().trunc()),
        Func::Round => {
            let x = arg(0).to_number();
            match args.get(1) {
                // XPath round(): halves go up.
                None => Value::Number((x + 0.5).floor()),
                // ODK round(x, places): halves go away from zero.
                Some(places) => {
                    let scale = 10f64.powf(eval(places, env).to_number().trunc());
                    Value::Number((x * scale).round() / scale)
                }
            }
        }
        Func::Date => arg(0).to_date().map_or_else(Value::empty, Value::Date),
        Func::Substr => {
            let end = args.get(2).map(|e| eval(e, env).to_number());
            Value::Str(funcs::substr(&text(0), arg(1).to_number(), end))
        }
        Func::SubstringBefore => Value::Str(funcs::substring_before(&text(0), &text(1))),
        Func::SubstringAfter => Value::Str(funcs::substring_after(&text(0), &text(1))),
        Func::Translate => Value::Str(funcs::translate(&text(0), &text(1), &text(2))),
        Func::NormalizeSpace => {
            let s = if args.is_empty() {
                env.current().to_text()
            } else {
                text(0)
            };
            Value::Str(funcs::normalize_space(&s))
        }
        Func::SelectedAt => Value::Str(funcs::selected_at(&text(0), arg(1).to_number())),
        Func::Position => Value::Number(env.position() as f64),
        Func::IndexedRepeat => {
            let (Node::Field(field), Node::Field(repeat)) = (&args[0], &args[1]) else {
                return Value::empty();
            };
            // From 1; JavaRosa takes anything less (or none) as the first.
            let n = arg(2).to_number();
            let n = if n.is_nan() || n < 1.0 { 1 } else { n as usize };
            env.indexed(field, repeat, n)
        }
        Func::Sum => {
            let values = across(&args[0], env);
            let numbers = values.iter().map(Value::to_number).filter(|n| !n.is_nan());
            Value::Number(numbers.sum())
        }
        Func::Min | Func::Max => {
            let values: Vec<Value> = match args {
                [one] => across(one, env),
                many => many.iter().map(|a| eval(a, env)).collect(),
            };
            let numbers = values.iter().map(Value::to_number).filter(|n| !n.is_nan());
            let pick = if func == Func::Min {
                f64::min
            } else {
                f64::max
            };
            Value::Number(numbers.reduce(pick).unwrap_or(f64::NAN))
        }
        Func::Pow => Value::Number(funcs::pow(arg(0).to_number(), arg(1).to_number())),
        Func::Floor => Value::Number(arg(0).to_number().floor()),
        Func::Ceiling => Value::Number(arg(0).to_number().ceil()),
        Func::Abs => Value::Number(arg(0).to_number().abs()),
        Func::Now => match env.now() {
            Some((utc_ms, offset_min)) => Value::Str(funcs::now_text(utc_ms, offset_min)),
            None => Value::Date(env.today()),
        },
        Func::Uuid => {
            let Some(first) = env.uuid() else {
                return Value::empty();
            };
            match args.first() {
                None => Value::Str(first),
                // `uuid(n)`: n random characters, taken from new UUIDs' random hex digits.
                Some(n) => {
                    let n = eval(n, env).to_number();
                    let n = if n.is_nan() || n < 1.0 { 0 } else { n as usize };
                    let mut out = String::new();
                    let mut next = Some(first);
                    while out.len() < n {
                        let Some(id) = next.take().or_else(|| env.uuid()) else {
                            break;
                        };
                        out.extend(random_digits(&id).take(n - out.len()));
                    }
                    Value::Str(out)
                }
            }
        }
        // Keeps the value once there is one: `once(uuid())` does not change on every edit.
        Func::Once => {
            let held = env.current();
            if held.is_empty() { arg(0) } else { held }
        }
        Func::Regex => Value::Bool(funcs::regex(&text(0), &text(1))),
        Func::FormatDate | Func::FormatDateTime => match date_time(&arg(0)) {
            Some(at) => Value::Str(funcs::format_date(at, &text(1), env.lang())),
            None => Value::empty(),
        },
    }
}

/// The values a `sum()`, `min()` or `max()` of a field reads: every instance's.
fn across(node: &Node, env: &dyn Env) -> Vec<Value> {
    match node {
        Node::Field(name) => env.values(name),
        other => vec![eval(other, env)],
    }
}

/// The hex digits of a UUID that are random (not its version and variant), upper case.
fn random_digits(id: &str) -> impl Iterator<Item = char> + '_ {
    id.chars()
        .filter(char::is_ascii_hexdigit)
        .enumerate()
        .filter(|(i, _)| *i != 12 && *i != 16)
        .map(|(_, c)| c.to_ascii_uppercase())
}

/// A value as a moment: a date, a date or dateTime string, or days since 1970 (the fraction
/// the time of day).
fn date_time(v: &Value) -> Option<DateTime> {
    match v {
        Value::Date(date) => Some(DateTime {
            date: *date,
            ms_of_day: 0,
        }),
        Value::Str(s) => DateTime::parse(s),
        Value::Number(n) if n.is_finite() && n.abs() < 1e8 => {
            let ms = (n * 86_400_000.0).round() as i64;
            Some(DateTime::at(ms, 0))
        }
        _ => None,
    }
}
