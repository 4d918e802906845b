#![allow(dead_code)]
mod wheel;
