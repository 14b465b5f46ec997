//! The functions of XLSForms in the field, each against the values ODK documents (JavaRosa's
//! tests and the ODK XForms specification), and their laws as property tests.

use proptest::prelude::*;

use super::testing::MapEnv;
use super::*;
use crate::lang::Lang;

fn eval_in(src: &str, env: &dyn Env) -> Value {
    Expr::parse(src)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .eval(env)
}

fn text(src: &str) -> String {
    eval_in(src, &MapEnv::new()).to_text()
}

fn number(src: &str) -> f64 {
    eval_in(src, &MapEnv::new()).to_number()
}

#[test]
fn strings_are_cut_as_odk_cuts_them() {
    // JavaRosa's tests: 0-based start, end exclusive, negative from the end.
    assert_eq!(text("substr('hello', 0)"), "hello");
    assert_eq!(text("substr('hello', 1, 3)"), "el");
    assert_eq!(text("substr('hello', -2)"), "lo");
    assert_eq!(text("substr('hello', 0, -1)"), "hell");
    assert_eq!(text("substr('hello', 4, 2)"), "");
    assert_eq!(text("substr('hello', 1, '')"), "", "an empty end is 0");
    assert_eq!(text("substr('Şahin', 1, 3)"), "ah", "characters, not bytes");
    assert_eq!(text("substring-before('2026-12-07', '-')"), "2026");
    assert_eq!(text("substring-after('2026-12-07', '-')"), "12-07");
    assert_eq!(text("substring-before('abc', 'x')"), "");
    assert_eq!(text("substring-after('abc', 'x')"), "");
    assert_eq!(text("substring-after('abc', '')"), "abc");
    assert_eq!(text("translate('bar', 'abc', 'ABC')"), "BAr");
    assert_eq!(text("translate('--aaa--', 'abc-', 'ABC')"), "AAA");
    assert_eq!(text("translate('Şahin', 'Ş', 'S')"), "Sahin");
    assert_eq!(text("normalize-space('  a \t b\n\nc  ')"), "a b c");
    assert_eq!(text("selected-at('a b c', 1)"), "b");
    assert_eq!(text("selected-at('a b c', 3)"), "");
    assert_eq!(text("selected-at('a b c', -1)"), "");
    assert_eq!(
        text("selected-at('a  b', 1)"),
        "b",
        "runs of spaces are one gap"
    );
    let mut env = MapEnv::new();
    env.current = Value::Str("  x  y ".into());
    assert_eq!(eval_in("normalize-space()", &env).to_text(), "x y");
}

#[test]
fn numbers_round_and_power_as_java_does() {
    assert_eq!(number("pow(2, 10)"), 1024.0);
    assert_eq!(number("pow(4, 0.5)"), 2.0);
    assert_eq!(number("pow('x', 0)"), 1.0, "anything to the power 0");
    assert!(
        number("pow(1, 'x')").is_nan(),
        "Java's Math.pow, not Rust's powf"
    );
    assert_eq!(number("floor(2.7)"), 2.0);
    assert_eq!(number("floor(-2.2)"), -3.0);
    assert_eq!(number("ceiling(2.2)"), 3.0);
    assert_eq!(number("ceiling(-2.7)"), -2.0);
    assert_eq!(number("abs(-4.5)"), 4.5);
    assert!(number("abs('')").is_nan());
    assert_eq!(number("min(3, 1, 2)"), 1.0);
    assert_eq!(number("max(3, '', 2)"), 3.0, "an empty value is left out");
    assert_eq!(number("max(-1, -2)"), -1.0, "not JavaRosa's 4.9E-324");
    assert!(number("min('', 'x')").is_nan());
}

#[test]
fn coalesce_skips_empty_and_none() {
    assert_eq!(text("coalesce('', 'b')"), "b");
    assert_eq!(text("coalesce(number('x'), 'b')"), "b", "NaN is empty");
    assert_eq!(text("coalesce(0, 'b')"), "0");
    assert_eq!(text("coalesce('a', 'b')"), "a");
}

#[test]
fn date_strings_are_dates_in_arithmetic_and_comparisons() {
    // The ODK XForms specification: number() turns date strings into days.
    assert_eq!(number("'2021-11-30' - '2021-11-29'"), 1.0);
    assert_eq!(number("number('2008-09-05')"), 14127.0);
    assert_eq!(number("number('1970-01-02')"), 1.0);
    assert_eq!(number("number('1970-01-01T12:00:00')"), 0.5);
    assert_eq!(
        eval_in("'2021-11-30' < '2021-12-01'", &MapEnv::new()),
        Value::Bool(true)
    );
    assert_eq!(
        eval_in("date('2021-11-30') = '2021-11-30'", &MapEnv::new()),
        Value::Bool(true)
    );
    // Numbers stay numbers; other text is none.
    assert_eq!(number("'17' + 1"), 18.0);
    assert!(number("'2021-13-01' + 0").is_nan(), "no 13th month");
    assert!(number("'soon' + 0").is_nan());
}

#[test]
fn dates_are_written_in_the_forms_language() {
    // JavaRosa's test: format-date('2018-01-02T10:20:30.123', "%Y-%m-%e %H:%M:%S").
    assert_eq!(
        text("format-date('2018-01-02T10:20:30.123', '%Y-%m-%e %H:%M:%S')"),
        "2018-01-2 10:20:30"
    );
    assert_eq!(
        text("format-date-time('2018-01-02T10:20:30.123+01:00', '%h:%M:%S.%3')"),
        "10:20:30.123"
    );
    assert_eq!(
        text("format-date('2026-12-07', '%d.%m.%Y (%y)')"),
        "07.12.2026 (26)"
    );
    assert_eq!(
        text("format-date(date('2026-03-01'), '%e %b %Y, %a')"),
        "1 Mar 2026, Sun"
    );
    assert_eq!(text("format-date('', '%Y')"), "");
    assert_eq!(text("format-date('soon', '%Y')"), "");
    assert_eq!(text("format-date(0, '%Y-%m-%d')"), "1970-01-01");
    assert_eq!(text("format-date('2026-12-07', '100%% %q')"), "100% %q");
    struct InLang(Lang);
    impl Env for InLang {
        fn field(&self, _: &str) -> Value {
            Value::empty()
        }
        fn current(&self) -> Value {
            Value::empty()
        }
        fn repeat_count(&self, _: &str) -> usize {
            0
        }
        fn today(&self) -> Date {
            Date::from_days(0)
        }
        fn lang(&self) -> Lang {
            self.0
        }
    }
    let named = |lang| eval_in("format-date('2026-03-02', '%a %e. %b')", &InLang(lang)).to_text();
    assert_eq!(named(Lang::De), "Mo. 2. März");
    assert_eq!(named(Lang::Tr), "Pzt 2. Mar");
    assert_eq!(named(Lang::Bg), "пн 2. мар");
    assert_eq!(named(Lang::Hu), "H 2. márc.");
    assert_eq!(named(Lang::Sk), "po 2. mar");
    assert_eq!(named(Lang::En), "Mon 2. Mar");
}

#[test]
fn regex_matches_the_whole_answer() {
    let env = MapEnv::new().with("iban", "DE89370400440532013000");
    let yes = |src: &str| eval_in(src, &env).to_bool();
    assert!(yes("regex(${iban}, '[A-Z]{2}[0-9]{20}')"));
    assert!(
        !yes("regex(${iban}, '[0-9]{20}')"),
        "whole string, not a part"
    );
    assert!(yes("regex('0171 2345678', '0[0-9 ]{6,}')"));
    assert!(
        !yes("regex('abc', '(')"),
        "a broken pattern matches nothing"
    );
    assert!(!yes("regex('ABC', 'abc')"), "case counts");
}

/// A phone inside a repeat group of three people, at a moment with a clock and ids.
struct Household {
    ages: Vec<&'static str>,
    instance: usize,
    current: Value,
}

impl Env for Household {
    fn field(&self, name: &str) -> Value {
        match name {
            "age" => Value::Str(self.ages[self.instance - 1].to_owned()),
            _ => Value::empty(),
        }
    }
    fn current(&self) -> Value {
        self.current.clone()
    }
    fn repeat_count(&self, _: &str) -> usize {
        self.ages.len()
    }
    fn today(&self) -> Date {
        "2026-12-07".parse().unwrap()
    }
    fn now(&self) -> Option<(i64, i32)> {
        // 2026-12-07 08:30:05.250 UTC, in Offenbach (UTC+1).
        Some((1_796_632_205_250, 60))
    }
    fn uuid(&self) -> Option<String> {
        Some("0f8fad5b-d9cb-469f-a165-70867728950e".to_owned())
    }
    fn values(&self, name: &str) -> Vec<Value> {
        match name {
            "age" => self
                .ages
                .iter()
                .map(|a| Value::Str((*a).to_owned()))
                .collect(),
            _ => vec![self.field(name)],
        }
    }
    fn position(&self) -> usize {
        self.instance
    }
    fn indexed(&self, field: &str, repeat: &str, n: usize) -> Value {
        match (field, repeat, self.ages.get(n.wrapping_sub(1))) {
            ("age", "members", Some(age)) => Value::Str((*age).to_owned()),
            _ => Value::empty(),
        }
    }
}

fn household() -> Household {
    Household {
        ages: vec!["35", "", "5"],
        instance: 2,
        current: Value::empty(),
    }
}

#[test]
fn repeat_groups_are_summed_and_indexed() {
    let h = household();
    let n = |src: &str| eval_in(src, &h).to_number();
    assert_eq!(n("sum(${age})"), 40.0, "the empty age is left out");
    assert_eq!(n("max(${age})"), 35.0);
    assert_eq!(n("min(${age})"), 5.0);
    assert_eq!(n("position(..)"), 2.0);
    assert_eq!(n("position()"), 2.0);
    assert_eq!(n("indexed-repeat(${age}, ${members}, 3)"), 5.0);
    assert_eq!(
        n("indexed-repeat(${age}, ${members}, 0)"),
        35.0,
        "less than 1 is the first"
    );
    assert_eq!(
        eval_in("indexed-repeat(${age}, ${members}, 4)", &h),
        Value::empty()
    );
    assert_eq!(
        n("indexed-repeat(${age}, ${members}, position(..) - 1)"),
        35.0,
        "the instance before this one"
    );
    assert!(Expr::parse("sum(3)").is_err());
    assert!(Expr::parse("indexed-repeat('x', ${members}, 1)").is_err());
}

#[test]
fn now_uuid_and_once_come_from_outside_and_once_keeps_them() {
    let mut h = household();
    assert_eq!(
        eval_in("now()", &h).to_text(),
        "2026-12-07T09:30:05.250+01:00",
        "the phone's clock, in its zone"
    );
    assert_eq!(
        eval_in("format-date-time(now(), '%H:%M')", &h).to_text(),
        "09:30"
    );
    assert_eq!(eval_in("now() < today() + 1", &h), Value::Bool(true));
    assert_eq!(
        eval_in("uuid()", &h).to_text(),
        "0f8fad5b-d9cb-469f-a165-70867728950e"
    );
    let short = eval_in("uuid(8)", &h).to_text();
    assert_eq!(short, "0F8FAD5B");
    assert_eq!(eval_in("string-length(uuid(40))", &h).to_number(), 40.0);
    assert_eq!(eval_in("uuid(0)", &h).to_text(), "");
    assert_eq!(
        eval_in("once(uuid())", &h).to_text(),
        "0f8fad5b-d9cb-469f-a165-70867728950e"
    );
    h.current = Value::Str("kept".into());
    assert_eq!(eval_in("once(uuid())", &h).to_text(), "kept");
    // Without a clock or ids (the server checking a submission): today, and nothing.
    let bare = MapEnv::new();
    assert_eq!(eval_in("now()", &bare), Value::Date(bare.today));
    assert_eq!(eval_in("uuid()", &bare), Value::empty());
}

#[test]
fn a_form_sums_its_repeat_and_keeps_a_calculated_id() {
    let form = crate::form::FormDef::from_json(
        r#"{"id": "f", "version": 1, "title": {"de": "F", "tr": "F", "bg": "F", "en": "F", "hu": "F", "sk": "F"},
            "fields": [
              {"name": "members", "type": "repeat", "label": {"de": "P", "tr": "P", "bg": "P", "en": "P", "hu": "P", "sk": "P"},
               "fields": [
                 {"name": "age", "type": "integer", "label": {"de": "A", "tr": "A", "bg": "A", "en": "A", "hu": "A", "sk": "A"}},
                 {"name": "number", "type": "calculate", "calculation": "position(..)", "label": {"de": "N", "tr": "N", "bg": "N", "en": "N", "hu": "N", "sk": "N"}}
               ]},
              {"name": "total", "type": "calculate", "calculation": "sum(${age})", "label": {"de": "T", "tr": "T", "bg": "T", "en": "T", "hu": "T", "sk": "T"}},
              {"name": "first", "type": "calculate", "calculation": "indexed-repeat(${age}, ${members}, 1)", "label": {"de": "E", "tr": "E", "bg": "E", "en": "E", "hu": "E", "sk": "E"}},
              {"name": "key", "type": "calculate", "calculation": "once(uuid())", "label": {"de": "K", "tr": "K", "bg": "K", "en": "K", "hu": "K", "sk": "K"}}
            ]}"#,
    )
    .unwrap();
    let members = vec![
        crate::form::Answers::new().with("age", "35"),
        crate::form::Answers::new().with("age", "12"),
    ];
    let answers = crate::form::Answers::new().with_repeat("members", members);
    fn fresh() -> String {
        "11111111-2222-4333-8444-555555555555".to_owned()
    }
    let at = Moment {
        today: "2026-12-07".parse().unwrap(),
        now: None,
        uuid: Some(fresh),
        lang: Lang::De,
    };
    let done = form.validate(&answers, at);
    assert!(done.is_valid(), "{:?}", done.problems);
    assert_eq!(done.answers.text("total"), "47");
    assert_eq!(done.answers.text("first"), "35");
    let numbers: Vec<&str> = done
        .answers
        .instances("members")
        .iter()
        .map(|m| m.text("number"))
        .collect();
    assert_eq!(numbers, ["1", "2"]);
    assert_eq!(done.answers.text("key"), fresh());
    // Validated again with other ids (the server, a later edit): the id stays.
    fn other() -> String {
        "99999999-2222-4333-8444-555555555555".to_owned()
    }
    let again = form.validate(
        &done.answers,
        Moment {
            uuid: Some(other),
            ..at
        },
    );
    assert_eq!(again.answers.text("key"), fresh());
}

proptest! {
    #[test]
    fn substr_is_a_slice_of_characters(s in "[a-zŞşİı ]{0,12}", a in -15i32..15, b in -15i32..15) {
        let env = MapEnv::new().with("s", &s);
        let got = eval_in(&format!("substr(${{s}}, {a}, {b})"), &env).to_text();
        let chars: Vec<char> = s.chars().collect();
        let len = chars.len() as i32;
        let at = |i: i32| (if i < 0 { len + i } else { i }).clamp(0, len) as usize;
        let want: String = if at(a) < at(b) { chars[at(a)..at(b)].iter().collect() } else { String::new() };
        prop_assert_eq!(got, want);
    }

    #[test]
    fn before_the_needle_and_after_it_make_the_whole(s in "[a-c]{0,10}", t in "[a-c]{1,2}") {
        let env = MapEnv::new().with("s", &s).with("t", &t);
        let joined = eval_in("concat(substring-before(${s}, ${t}), ${t}, substring-after(${s}, ${t}))", &env).to_text();
        if s.contains(&t) {
            prop_assert_eq!(joined, s);
        } else {
            prop_assert_eq!(joined, t);
        }
    }

    #[test]
    fn normalize_space_is_idempotent_and_translate_to_itself_is_identity(s in "[ a-z\t\n]{0,20}") {
        let env = MapEnv::new().with("s", &s);
        let once = eval_in("normalize-space(${s})", &env).to_text();
        let env2 = MapEnv::new().with("s", &once);
        prop_assert_eq!(eval_in("normalize-space(${s})", &env2).to_text(), once.clone());
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
        prop_assert_eq!(eval_in("translate(${s}, 'abc', 'abc')", &env).to_text(), s);
    }

    #[test]
    fn selected_at_walks_the_choices_in_order(choices in proptest::collection::vec("[a-z_]{1,6}", 0..6)) {
        let env = MapEnv::new().with("list", &choices.join(" "));
        for (i, c) in choices.iter().enumerate() {
            prop_assert_eq!(eval_in(&format!("selected-at(${{list}}, {i})"), &env).to_text(), c.clone());
        }
        let past = choices.len();
        prop_assert_eq!(eval_in(&format!("selected-at(${{list}}, {past})"), &env).to_text(), "");
    }

    #[test]
    fn min_max_and_floor_ceiling_bound_their_numbers(x in -1e6f64..1e6, y in -1e6f64..1e6) {
        let env = MapEnv::new().with_value("x", Value::Number(x)).with_value("y", Value::Number(y));
        let n = |src: &str| eval_in(src, &env).to_number();
        prop_assert_eq!(n("min(${x}, ${y})"), x.min(y));
        prop_assert_eq!(n("max(${x}, ${y})"), x.max(y));
        let (floor, ceiling) = (n("floor(${x})"), n("ceiling(${x})"));
        prop_assert!(floor <= x && x <= ceiling, "{} {} {}", floor, x, ceiling);
        prop_assert!(ceiling - floor <= 1.0, "{} {}", floor, ceiling);
        prop_assert_eq!(n("abs(${x})"), x.abs());
        prop_assert_eq!(n("pow(${x}, 1)"), x);
    }

    #[test]
    fn a_formatted_date_reads_back_as_the_same_date(days in -30000i32..60000) {
        let d = Date::from_days(days);
        let env = MapEnv::new().with_value("d", Value::Date(d));
        let written = eval_in("format-date(${d}, '%Y-%m-%d')", &env).to_text();
        prop_assert_eq!(written.parse::<Date>().ok(), Some(d));
        prop_assert_eq!(eval_in(&format!("number('{d}')"), &env).to_number(), f64::from(days));
        let (y, m, day) = d.ymd();
        prop_assert_eq!(eval_in("format-date(${d}, '%e/%n')", &env).to_text(), format!("{day}/{m}"));
        prop_assert_eq!(eval_in("format-date(${d}, '%Y')", &env).to_text(), format!("{y:04}"));
    }

    #[test]
    fn regex_of_an_escaped_text_matches_exactly_that_text(s in "[a-z0-9.+*()]{0,10}", t in "[a-z0-9]{0,3}") {
        let escaped: String = s.chars().flat_map(|c| {
            if c.is_ascii_alphanumeric() { vec![c] } else { vec!['\\', c] }
        }).collect();
        let env = MapEnv::new().with("s", &s).with("p", &escaped).with("t", &format!("{s}{t}"));
        let itself = eval_in("regex(${s}, ${p})", &env).to_bool();
        prop_assert!(itself, "{:?} does not match {:?}", s, escaped);
        prop_assert_eq!(eval_in("regex(${t}, ${p})", &env).to_bool(), t.is_empty());
    }
}
