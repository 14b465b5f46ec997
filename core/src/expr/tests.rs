use proptest::prelude::*;

use super::parser::{Func, Node, Op};
use super::testing::MapEnv;
use super::*;

fn eval_str(src: &str, env: &MapEnv) -> Value {
    Expr::parse(src)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .eval(env)
}

fn err(src: &str) -> String {
    Expr::parse(src).unwrap_err().to_string()
}

#[test]
fn fields_and_the_current_value() {
    let mut env = MapEnv::new().with("age", "17").with("name", "Ayşe");
    env.current = Value::Str("42".into());
    assert_eq!(eval_str("${age} < 18", &env), Value::Bool(true));
    assert_eq!(eval_str("${age} + 1", &env), Value::Number(18.0));
    assert_eq!(eval_str(". > 40 and . < 50", &env), Value::Bool(true));
    assert_eq!(eval_str("string-length(${name})", &env), Value::Number(4.0));
    // An unanswered field is empty: not equal to 0, not less than anything.
    assert_eq!(eval_str("${missing} = ''", &env), Value::Bool(true));
    assert_eq!(eval_str("${missing} < 5", &env), Value::Bool(false));
    assert_eq!(eval_str("${missing} > 5", &env), Value::Bool(false));
}

#[test]
fn dates_compare_with_today_and_with_date_strings() {
    let env = MapEnv::new()
        .with("visit", "2026-11-20")
        .with_value("entry", Value::Date("2019-05-01".parse().unwrap()));
    assert_eq!(
        eval_str("date(${visit}) <= today()", &env),
        Value::Bool(true)
    );
    assert_eq!(eval_str("${visit} <= today()", &env), Value::Bool(true));
    assert_eq!(eval_str("${visit} > today()", &env), Value::Bool(false));
    assert_eq!(eval_str("${entry} < '2020-01-01'", &env), Value::Bool(true));
    assert_eq!(eval_str("${entry} = '2019-05-01'", &env), Value::Bool(true));
    assert_eq!(
        eval_str("today() - date('2026-11-19')", &env),
        Value::Number(7.0)
    );
    assert_eq!(
        eval_str("string(today())", &env),
        Value::Str("2026-11-26".into())
    );
    assert_eq!(eval_str("date('not a date')", &env), Value::empty());
}

#[test]
fn selects_repeats_and_text_functions() {
    let mut env = MapEnv::new()
        .with("benefits", "buergergeld kindergeld")
        .with("phone", "");
    env.repeats.insert("children".into(), 3);
    assert_eq!(
        eval_str("selected(${benefits}, 'kindergeld')", &env),
        Value::Bool(true)
    );
    assert_eq!(
        eval_str("count-selected(${benefits})", &env),
        Value::Number(2.0)
    );
    assert_eq!(eval_str("count(${children}) >= 2", &env), Value::Bool(true));
    assert_eq!(eval_str("count(${nobody})", &env), Value::Number(0.0));
    assert_eq!(
        eval_str("coalesce(${phone}, 'none')", &env),
        Value::Str("none".into())
    );
    assert_eq!(
        eval_str("concat('a', 1, true())", &env),
        Value::Str("a1true".into())
    );
    assert_eq!(
        eval_str("starts-with('+49 69', '+49')", &env),
        Value::Bool(true)
    );
    assert_eq!(eval_str("int(-2.7)", &env), Value::Number(-2.0));
    assert_eq!(eval_str("round(2.5)", &env), Value::Number(3.0));
    assert_eq!(eval_str("round(-2.5)", &env), Value::Number(-2.0));
    assert_eq!(
        eval_str("round(1.005 * 1000, -1)", &env),
        Value::Number(1010.0)
    );
    assert_eq!(eval_str("round(2.71828, 2)", &env), Value::Number(2.72));
}

#[test]
fn and_or_do_not_need_their_right_side() {
    let env = MapEnv::new();
    assert_eq!(eval_str("false() and 1 div 0", &env), Value::Bool(false));
    assert_eq!(eval_str("true() or ${x}", &env), Value::Bool(true));
}

#[test]
fn names_with_hyphens_and_minus_signs() {
    let env = MapEnv::new().with("a", "5");
    assert_eq!(eval_str("${a}-1", &env), Value::Number(4.0));
    assert_eq!(eval_str("10 div -2", &env), Value::Number(-5.0));
    assert_eq!(eval_str("10 mod 4-1", &env), Value::Number(1.0));
}

#[test]
fn errors_name_the_column_and_the_problem() {
    assert_eq!(err(""), "column 1: empty expression");
    assert_eq!(err("   "), "column 1: empty expression");
    assert_eq!(err("${age} >"), "column 9: expression ends too early");
    assert_eq!(err("1 2"), "column 3: unexpected number 2 here");
    assert_eq!(err("(1 + 2"), "column 1: this `(` is never closed");
    assert_eq!(
        err("'open"),
        "column 1: unterminated string: add the closing quote"
    );
    assert_eq!(
        err("$age > 3"),
        "column 1: expected `{` after `$` (write ${field})"
    );
    assert_eq!(
        err("${age"),
        "column 1: unterminated field reference: add `}`"
    );
    assert_eq!(err("${1st}"), "column 1: invalid field name \"1st\"");
    assert_eq!(
        err("age > 3"),
        "column 1: unknown name \"age\": refer to a field as ${age}"
    );
    assert_eq!(
        err("1 + pulldata('x')"),
        "column 5: unknown function pulldata()"
    );
    assert_eq!(err("if(1, 2)"), "column 1: if() takes 3 argument(s), not 2");
    assert_eq!(
        err("true(5)"),
        "column 1: true() takes 0 argument(s), not 1"
    );
    assert_eq!(
        err("count('x')"),
        "column 1: count() takes a repeat group, as ${name}"
    );
    assert_eq!(err("not(1,)"), "column 7: unexpected `)`");
    assert_eq!(err("1 + # 2"), "column 5: unexpected character '#'");
    assert_eq!(err("1..2"), "column 1: malformed number \"1..2\"");
    assert_eq!(err("ş = 1"), "column 1: unexpected character 'ş'");
}

#[test]
fn reports_the_fields_it_reads() {
    let e = Expr::parse("if(${a} > 1, count(${kids}), -${b}) + .").unwrap();
    assert_eq!(e.field_refs(), vec!["a", "kids", "b"]);
    assert_eq!(e.source(), "if(${a} > 1, count(${kids}), -${b}) + .");
    let counted: Vec<_> = e.references().iter().map(|r| (r.name, r.counted)).collect();
    assert_eq!(counted, vec![("a", false), ("kids", true), ("b", false)]);
    assert!(e.uses_current());
    assert!(!Expr::parse("${a} + 1").unwrap().uses_current());
}

#[test]
fn serialises_as_its_source_and_rejects_bad_source_on_load() {
    let e: Expr = serde_json::from_str("\"${a}  =  1\"").unwrap();
    assert_eq!(serde_json::to_string(&e).unwrap(), "\"${a}  =  1\"");
    assert_eq!(e, Expr::parse("${a}=1").unwrap());
    let bad = serde_json::from_str::<Expr>("\"${a} = \"").unwrap_err();
    assert!(
        bad.to_string()
            .contains("column 8: expression ends too early"),
        "{bad}"
    );
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        (0u32..100_000).prop_map(|n| Node::Num(f64::from(n) / 8.0)),
        "[a-zA-Z0-9 çğışöüäß\"-]{0,6}".prop_map(Node::Str),
        "[a-z_][a-z0-9_]{0,5}".prop_map(Node::Field),
        Just(Node::Current),
    ];
    leaf.prop_recursive(4, 32, 3, |inner| {
        let ops = prop_oneof![
            Just(Op::Or),
            Just(Op::And),
            Just(Op::Eq),
            Just(Op::Ne),
            Just(Op::Lt),
            Just(Op::Le),
            Just(Op::Gt),
            Just(Op::Ge),
            Just(Op::Add),
            Just(Op::Sub),
            Just(Op::Mul),
            Just(Op::Div),
            Just(Op::Mod),
        ];
        prop_oneof![
            inner.clone().prop_map(|n| Node::Neg(Box::new(n))),
            (ops, inner.clone(), inner.clone()).prop_map(|(op, a, b)| Node::Bin(
                op,
                Box::new(a),
                Box::new(b)
            )),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| Node::Call(Func::If, vec![a, b, c])),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Node::Call(Func::Selected, vec![a, b])),
            inner.clone().prop_map(|a| Node::Call(Func::Not, vec![a])),
            prop::collection::vec(inner, 0..4).prop_map(|args| Node::Call(Func::Concat, args)),
            "[a-z]{1,4}".prop_map(|f| Node::Call(Func::Count, vec![Node::Field(f)])),
            Just(Node::Call(Func::Today, vec![])),
        ]
    })
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![any::<f64>(), (-1000i32..1000).prop_map(f64::from)].prop_map(Value::Number),
        "[0-9a-z .-]{0,8}".prop_map(Value::Str),
        (-30_000i32..30_000).prop_map(|d| Value::Date(Date::from_days(d))),
    ]
}

fn env_with(a: Value, b: Value) -> MapEnv {
    MapEnv::new().with_value("a", a).with_value("b", b)
}

proptest! {
    #[test]
    fn printing_then_parsing_gives_the_same_tree(tree in node()) {
        let printed = tree.to_string();
        let parsed = Expr::parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
        prop_assert_eq!(parsed.root, tree);
    }

    #[test]
    fn the_parser_never_panics(src in "\\PC{0,40}") {
        let _ = Expr::parse(&src);
    }

    #[test]
    fn the_parser_never_panics_on_expression_like_text(src in "[ ${}()a-z0-9.,'\"=!<>+*-]{0,40}") {
        if let Ok(e) = Expr::parse(&src) {
            // Whatever parses, evaluates, and its canonical form means the same.
            let again = Expr::parse(&e.canonical()).unwrap();
            prop_assert_eq!(again, e);
        }
    }

    #[test]
    fn evaluation_is_total(tree in node(), a in value(), b in value()) {
        let mut env = env_with(a, b);
        env.current = Value::Number(1.0);
        let _ = super::eval::eval(&tree, &env);
    }

    #[test]
    fn arithmetic_is_ieee(x in -1e6f64..1e6, y in -1e6f64..1e6) {
        let env = env_with(Value::Number(x), Value::Number(y));
        let num = |src: &str| eval_str(src, &env).to_number();
        prop_assert_eq!(num("${a} + ${b}"), x + y);
        prop_assert_eq!(num("${a} - ${b}"), x - y);
        prop_assert_eq!(num("${a} * ${b}"), x * y);
        prop_assert_eq!(num("${a} div ${b}").to_bits(), (x / y).to_bits());
        let m = num("${a} mod ${b}");
        prop_assert!(m.to_bits() == (x % y).to_bits());
    }

    #[test]
    fn equality_is_symmetric(a in value(), b in value()) {
        let env = env_with(a, b);
        prop_assert_eq!(eval_str("${a} = ${b}", &env), eval_str("${b} = ${a}", &env));
        prop_assert_eq!(
            eval_str("${a} != ${b}", &env).to_bool(),
            !eval_str("${a} = ${b}", &env).to_bool()
        );
    }

    #[test]
    fn comparisons_mirror(a in value(), b in value()) {
        let env = env_with(a, b);
        prop_assert_eq!(eval_str("${a} < ${b}", &env), eval_str("${b} > ${a}", &env));
        prop_assert_eq!(eval_str("${a} <= ${b}", &env), eval_str("${b} >= ${a}", &env));
    }

    #[test]
    fn double_negation_is_boolean(a in value()) {
        let env = env_with(a.clone(), Value::empty());
        prop_assert_eq!(eval_str("not(not(${a}))", &env), Value::Bool(a.to_bool()));
        prop_assert_eq!(eval_str("boolean(${a})", &env), Value::Bool(a.to_bool()));
    }

    #[test]
    fn if_picks_a_branch_unchanged(c in value(), a in value(), b in value()) {
        let env = env_with(a.clone(), b.clone()).with_value("c", c.clone());
        let got = eval_str("if(${c}, ${a}, ${b})", &env);
        prop_assert_eq!(got, if c.to_bool() { a } else { b });
    }
}
