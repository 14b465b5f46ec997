// The migrations are embedded at compile time (`sqlx::migrate!`): adding or changing one
// must rebuild the server, or it would start without it.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
