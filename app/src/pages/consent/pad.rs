//! The signature pad: a canvas that takes strokes from a finger, a pen or a mouse through
//! pointer events, keeps them as vector points with their times (and the pen's pressure where
//! the device reports one), and draws them smoothly at any size, so turning the phone keeps
//! what was signed.

use cris_core::consent::{Point, Signature};
use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, PointerEvent};

/// The pen's width in CSS pixels at medium pressure.
const PEN_WIDTH: f64 = 2.5;

/// A stroke being drawn: the pointer drawing it, when it began, its points so far.
struct Drawing {
    pointer: i32,
    started_ms: f64,
    points: Vec<Point>,
}

/// The pad. `signature` holds what is signed; [`Signature::default`] clears it.
#[component]
pub fn SignaturePad(
    signature: RwSignal<Signature>,
    /// Read out by screen readers and shown on the line.
    #[prop(into)]
    label: Signal<String>,
    #[prop(into)] clear_label: Signal<String>,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let drawing = StoredValue::new(None::<Drawing>);

    let redraw = move || {
        if let Some(c) = canvas.get_untracked() {
            signature.with_untracked(|s| draw_all(&c, s));
        }
    };
    Effect::new(move |_| {
        canvas.track();
        signature.track();
        redraw();
    });
    // Turning the phone or resizing the window changes the pad's size: draw again to fit.
    let resize = window_event_listener(leptos::ev::resize, move |_| redraw());
    on_cleanup(move || resize.remove());

    let point_of = move |c: &HtmlCanvasElement, ev: &PointerEvent, started_ms: f64| {
        let (w, _) = css_size(c);
        // Points are kept in the pad's size when the first stroke began.
        let scale = signature.with_untracked(|s| f64::from(s.width)) / (w * 10.0);
        let pressure = (ev.pointer_type() != "mouse" && ev.pressure() > 0.0)
            .then(|| (f64::from(ev.pressure()) * 1000.0).round() as u16);
        Point {
            x: (f64::from(ev.offset_x()) * 10.0 * scale).round() as i32,
            y: (f64::from(ev.offset_y()) * 10.0 * scale).round() as i32,
            t_ms: (ev.time_stamp() - started_ms).max(0.0) as u32,
            pressure,
        }
    };

    let on_down = move |ev: PointerEvent| {
        let Some(c) = canvas.get_untracked() else {
            return;
        };
        ev.prevent_default();
        let _ = c.set_pointer_capture(ev.pointer_id());
        if signature.with_untracked(|s| s.strokes.is_empty()) {
            let (w, h) = css_size(&c);
            signature.update_untracked(|s| {
                s.width = (w * 10.0).round() as u32;
                s.height = (h * 10.0).round() as u32;
            });
        }
        let started_ms = ev.time_stamp();
        let first = point_of(&c, &ev, started_ms);
        drawing.set_value(Some(Drawing {
            pointer: ev.pointer_id(),
            started_ms,
            points: vec![first],
        }));
        draw_dot(&c, &ev);
    };
    let on_move = move |ev: PointerEvent| {
        let Some(c) = canvas.get_untracked() else {
            return;
        };
        let mine = drawing.with_value(|d| d.as_ref().map(|d| (d.pointer, d.started_ms)));
        let Some((pointer, started_ms)) = mine.filter(|(p, _)| *p == ev.pointer_id()) else {
            return;
        };
        let _ = pointer;
        ev.prevent_default();
        // The points the browser merged into this event, for a smooth line on fast strokes.
        let mut events: Vec<PointerEvent> = ev
            .get_coalesced_events()
            .iter()
            .filter_map(|e| e.dyn_into().ok())
            .collect();
        if events.is_empty() {
            events.push(ev);
        }
        for e in &events {
            let point = point_of(&c, e, started_ms);
            let last = drawing.with_value(|d| d.as_ref().and_then(|d| d.points.last().copied()));
            drawing.update_value(|d| {
                if let Some(d) = d {
                    d.points.push(point);
                }
            });
            if let Some(last) = last {
                draw_segment(&c, signature.with_untracked(|s| s.width), last, point);
            }
        }
    };
    let on_up = move |ev: PointerEvent| {
        let done = drawing.with_value(|d| d.as_ref().is_some_and(|d| d.pointer == ev.pointer_id()));
        if !done {
            return;
        }
        if let Some(stroke) = drawing.try_update_value(Option::take).flatten() {
            signature.update(|s| s.strokes.push(stroke.points));
        }
    };

    view! {
        <div class="pad-box">
            <canvas
                node_ref=canvas
                class="pad"
                role="img"
                aria-label=move || label.get()
                data-testid="signature-pad"
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=on_up
                on:pointercancel=on_up
            ></canvas>
            <p class="pad-label" aria-hidden="true">{move || label.get()}</p>
            <button
                type="button"
                class="btn btn-small"
                data-testid="signature-clear"
                on:click=move |_| signature.set(Signature::default())
            >
                {move || clear_label.get()}
            </button>
        </div>
    }
}

/// The canvas' size on the screen, in CSS pixels.
fn css_size(c: &HtmlCanvasElement) -> (f64, f64) {
    (
        f64::from(c.client_width().max(1)),
        f64::from(c.client_height().max(1)),
    )
}

fn context(c: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    c.get_context("2d").ok()??.dyn_into().ok()
}

fn pen(ctx: &CanvasRenderingContext2d, pressure: Option<u16>) {
    let width = pressure.map_or(PEN_WIDTH, |p| PEN_WIDTH * (0.5 + f64::from(p) / 1000.0));
    ctx.set_line_width(width);
    ctx.set_line_cap("round");
    ctx.set_line_join("round");
    ctx.set_stroke_style_str("#10202a");
    ctx.set_fill_style_str("#10202a");
}

/// Fits the canvas' pixels to its size on the screen (sharp on dense screens) and draws the
/// line to sign on and every stroke, scaled from the size they were drawn at.
fn draw_all(c: &HtmlCanvasElement, signature: &Signature) {
    let (w, h) = css_size(c);
    let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
    c.set_width((w * ratio).round() as u32);
    c.set_height((h * ratio).round() as u32);
    let Some(ctx) = context(c) else {
        return;
    };
    let _ = ctx.set_transform(ratio, 0.0, 0.0, ratio, 0.0, 0.0);
    // The line to sign on, with its cross.
    let base = (h * 0.75).round();
    ctx.set_line_width(1.0);
    ctx.set_stroke_style_str("#9aa6ab");
    ctx.begin_path();
    ctx.move_to(16.0, base);
    ctx.line_to(w - 16.0, base);
    ctx.stroke();
    ctx.set_fill_style_str("#9aa6ab");
    ctx.set_font("20px sans-serif");
    let _ = ctx.fill_text("×", 16.0, base - 8.0);

    let scale = if signature.width == 0 {
        1.0
    } else {
        w / f64::from(signature.width)
    };
    for stroke in &signature.strokes {
        let at = |p: &Point| (f64::from(p.x) * scale, f64::from(p.y) * scale);
        let Some(first) = stroke.first() else {
            continue;
        };
        pen(&ctx, first.pressure);
        let (x0, y0) = at(first);
        if stroke.len() == 1 {
            ctx.begin_path();
            let _ = ctx.arc(x0, y0, PEN_WIDTH / 2.0, 0.0, std::f64::consts::TAU);
            ctx.fill();
            continue;
        }
        // Through the midpoints, with the points as control points: a smooth curve.
        ctx.begin_path();
        ctx.move_to(x0, y0);
        for pair in stroke.windows(2) {
            let (ax, ay) = at(&pair[0]);
            let (bx, by) = at(&pair[1]);
            ctx.quadratic_curve_to(ax, ay, (ax + bx) / 2.0, (ay + by) / 2.0);
        }
        let (lx, ly) = at(stroke.last().unwrap_or(first));
        ctx.line_to(lx, ly);
        ctx.stroke();
    }
}

/// Draws the newest piece of the stroke being drawn (the whole pad is drawn again when it
/// ends).
fn draw_segment(c: &HtmlCanvasElement, pad_width: u32, from: Point, to: Point) {
    let Some(ctx) = context(c) else {
        return;
    };
    let (w, _) = css_size(c);
    let scale = w / f64::from(pad_width.max(1));
    pen(&ctx, to.pressure);
    ctx.begin_path();
    ctx.move_to(f64::from(from.x) * scale, f64::from(from.y) * scale);
    ctx.line_to(f64::from(to.x) * scale, f64::from(to.y) * scale);
    ctx.stroke();
}

fn draw_dot(c: &HtmlCanvasElement, ev: &PointerEvent) {
    let Some(ctx) = context(c) else {
        return;
    };
    pen(&ctx, None);
    ctx.begin_path();
    let _ = ctx.arc(
        f64::from(ev.offset_x()),
        f64::from(ev.offset_y()),
        PEN_WIDTH / 2.0,
        0.0,
        std::f64::consts::TAU,
    );
    ctx.fill();
}
