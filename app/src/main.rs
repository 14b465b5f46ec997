fn main() {
    cris_app::run();
}
