//! What forms draw from the phone, in the browser: `now()` in the phone's time zone, `uuid()`
//! random (version 4) and new at every call, month names in the screen's language.

use cris_app::clock::{moment, random_uuid, today};
use cris_core::Lang;
use cris_core::expr::{Env, Expr, Value, testing::MapEnv};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// An empty form's scope at the phone's moment.
struct Phone(cris_core::expr::Moment);

impl Env for Phone {
    fn field(&self, _: &str) -> Value {
        Value::empty()
    }
    fn current(&self) -> Value {
        Value::empty()
    }
    fn repeat_count(&self, _: &str) -> usize {
        0
    }
    fn today(&self) -> cris_core::Date {
        self.0.today
    }
    fn now(&self) -> Option<(i64, i32)> {
        self.0.now
    }
    fn uuid(&self) -> Option<String> {
        self.0.uuid.map(|make| make())
    }
    fn lang(&self) -> Lang {
        self.0.lang
    }
}

fn eval(src: &str, env: &dyn Env) -> String {
    Expr::parse(src).unwrap().eval(env).to_text()
}

#[wasm_bindgen_test]
fn now_is_the_phones_clock_in_its_zone() {
    let phone = Phone(moment(today(), Lang::De));
    let js = js_sys::Date::new_0();
    let now = eval("now()", &phone);
    assert!(now.starts_with(&today().to_string()), "{now}");
    let hour = eval("format-date-time(now(), '%H')", &phone);
    assert_eq!(hour.parse::<u32>().unwrap(), js.get_hours(), "{now}");
    let offset = -(js.get_timezone_offset() as i32);
    let sign = if offset < 0 { '-' } else { '+' };
    let zone = format!("{sign}{:02}:{:02}", offset.abs() / 60, offset.abs() % 60);
    assert!(now.ends_with(&zone), "{now} in {zone}");
    assert_eq!(
        eval("format-date('2026-03-02', '%a %b')", &phone),
        "Mo. März"
    );
}

#[wasm_bindgen_test]
fn uuid_is_random_and_new_each_time() {
    let phone = Phone(moment(today(), Lang::En));
    let (a, b) = (eval("uuid()", &phone), eval("uuid()", &phone));
    assert_ne!(a, b);
    for id in [&a, &b, &random_uuid()] {
        assert!(cris_core::id::is_uuid(id), "{id}");
        assert_eq!(&id[14..15], "4", "version 4: {id}");
    }
    // Without the phone (a server checking a submission), there is no id to make.
    assert_eq!(eval("uuid()", &MapEnv::new()), "");
}
