//! The Rayon reference of viscose's benchmark: workloads C and D (calibrated 2 ms CPU tasks, even
//! and skewed), E, F, G (fib with join, quicksort with join, a parallel sum and map) and S (the
//! standard sorts against par_sort and par_sort_unstable, Float64 and Int32), the same
//! shapes and inputs as bench/lib/workloads.mjs and bench/forkjoin.mjs, on a Rayon pool of 2
//! threads against the same code run sequentially. Prints one JSON object on stdout.
//!
//! Usage: viscose-rayon-reference [quick|full]

use rayon::prelude::*;
use std::time::Instant;

const THREADS: usize = 2;
const UNIT_MS: f64 = 2.0;

struct Profile {
    rounds: usize,
    cpu_tasks: usize,
    skewed_tasks: usize,
    fib_n: u32,
    sort_length: usize,
    iter_length: usize,
    /// Items of workload S's sorts.
    par_sort_length: usize,
}

const FULL: Profile = Profile { rounds: 5, cpu_tasks: 400, skewed_tasks: 200, fib_n: 34, sort_length: 5_000_000, iter_length: 20_000_000, par_sort_length: 10_000_000 };
const QUICK: Profile = Profile { rounds: 3, cpu_tasks: 100, skewed_tasks: 60, fib_n: 30, sort_length: 1_000_000, iter_length: 4_000_000, par_sort_length: 1_000_000 };
const FIB_CUTOFF: u32 = 20;
const SORT_CUTOFF: usize = 20_000;
const SORT_SEED: i32 = 20261129;

/// The `cpu` task of bench/lib/tasks.mjs: an integer mixing loop of `n` rounds.
fn cpu(n: u64, seed: u32) -> u32 {
    let mut h: u32 = 0x811c9dc5 ^ seed;
    for i in 0..n {
        h = (h ^ (i as u32)).wrapping_mul(16777619);
        h ^= h >> 13;
    }
    h
}

/// Iterations of `cpu` that take UNIT_MS here: the median of 15 timed runs, after a warm-up.
fn calibrate() -> u64 {
    let mut sink = 0u32;
    for i in 0..30 {
        sink ^= cpu(200_000, i);
    }
    let mut ns_per_iteration: Vec<f64> = (0..15)
        .map(|i| {
            let start = Instant::now();
            sink ^= cpu(2_000_000, i);
            start.elapsed().as_nanos() as f64 / 2_000_000.0
        })
        .collect();
    std::hint::black_box(sink);
    ns_per_iteration.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (UNIT_MS * 1e6 / ns_per_iteration[7]).round() as u64
}

/// D's costs: a tenth 20 units, the rest 1, shuffled by Fisher–Yates with mulberry32 seed 42, as in
/// bench/lib/workloads.mjs.
fn skewed_units(count: usize) -> Vec<u64> {
    let mut units: Vec<u64> = (0..count).map(|i| if (i as f64) < count as f64 / 10.0 { 20 } else { 1 }).collect();
    let mut state: u32 = 42;
    let mut random = || {
        state = state.wrapping_add(0x6d2b79f5);
        let mut t = (state ^ (state >> 15)).wrapping_mul(1 | state);
        t = (t.wrapping_add((t ^ (t >> 7)).wrapping_mul(61 | t))) ^ t;
        ((t ^ (t >> 14)) as f64) / 4294967296.0
    };
    for i in (1..count).rev() {
        let j = (random() * (i as f64 + 1.0)).floor() as usize;
        units.swap(i, j);
    }
    units
}

fn fib_sequential(n: u32) -> u64 {
    if n < 2 { n as u64 } else { fib_sequential(n - 1) + fib_sequential(n - 2) }
}

fn fib_join(n: u32) -> u64 {
    if n <= FIB_CUTOFF {
        return fib_sequential(n);
    }
    let (a, b) = rayon::join(|| fib_join(n - 1), || fib_join(n - 2));
    a + b
}

/// Lomuto partition around the middle element, as bench/lib/kernels.mjs.
fn partition(a: &mut [i32]) -> usize {
    let hi = a.len();
    let mid = hi / 2;
    a.swap(mid, hi - 1);
    let pivot = a[hi - 1];
    let mut store = 0;
    for i in 0..hi - 1 {
        if a[i] < pivot {
            a.swap(i, store);
            store += 1;
        }
    }
    a.swap(hi - 1, store);
    store
}

fn quicksort_sequential(a: &mut [i32]) {
    if a.len() <= SORT_CUTOFF {
        a.sort_unstable();
        return;
    }
    let p = partition(a);
    let (left, right) = a.split_at_mut(p);
    quicksort_sequential(left);
    quicksort_sequential(&mut right[1..]);
}

fn quicksort_join(a: &mut [i32]) {
    if a.len() <= SORT_CUTOFF {
        a.sort_unstable();
        return;
    }
    let p = partition(a);
    let (left, right) = a.split_at_mut(p);
    rayon::join(|| quicksort_join(left), || quicksort_join(&mut right[1..]));
}

/// The LCG of bench/lib/kernels.mjs `fillRandom`.
fn fill_random(values: &mut [i32], seed: i32) {
    let mut state = seed;
    for value in values.iter_mut() {
        state = state.wrapping_mul(1103515245).wrapping_add(12345);
        *value = state;
    }
}

/// The same LCG as `fill_random`, scaled into [-1, 1): `fillRandomFloat` of bench/lib/kernels.mjs.
fn fill_random_f64(values: &mut [f64], seed: i32) {
    let mut state = seed;
    for value in values.iter_mut() {
        state = state.wrapping_mul(1103515245).wrapping_add(12345);
        *value = state as f64 / 2147483648.0;
    }
}

/// Workload S for one element type: the standard library's sort against Rayon's parallel one, stable
/// (`sort_by` / `par_sort_by`) and unstable; each run sorts a fresh copy of `input`, in the time of
/// both sides. Returns the two entries.
fn sort_entries<T: Copy + Send + Sync + PartialEq + std::fmt::Debug>(
    name: &str,
    rounds: usize,
    input: &[T],
    order: fn(&T, &T) -> std::cmp::Ordering,
) -> Vec<String> {
    let sorted = |stable: bool, parallel: bool| {
        let mut values = input.to_vec();
        match (stable, parallel) {
            (true, false) => values.sort_by(order),
            (true, true) => values.par_sort_by(order),
            (false, false) => values.sort_unstable_by(order),
            (false, true) => values.par_sort_unstable_by(order),
        }
        values
    };
    [("stable", true), ("unstable", false)]
        .iter()
        .map(|&(kind, stable)| {
            let (seq, par) = compare(rounds, || sorted(stable, false), || sorted(stable, true));
            format!("\"S.{name}.{kind}\":{{\"sequentialMs\":{seq:.3},\"ms\":{par:.3},\"speedup\":{:.3},\"includesCopyOfInput\":true}}", seq / par)
        })
        .collect()
}

fn transform(x: f64) -> f64 {
    x.sqrt() * 0.5 + 1.0
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

/// Times `sequential` and `parallel` alternately, `rounds` times each after one warm-up run of
/// each; checks that they agree; returns (sequential ms, parallel ms), medians.
fn compare<T: PartialEq + std::fmt::Debug>(rounds: usize, mut sequential: impl FnMut() -> T, mut parallel: impl FnMut() -> T) -> (f64, f64) {
    let expected = sequential();
    assert_eq!(parallel(), expected, "the parallel run disagrees with the sequential one");
    let mut seq = Vec::new();
    let mut par = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        std::hint::black_box(sequential());
        seq.push(start.elapsed().as_secs_f64() * 1e3);
        let start = Instant::now();
        let result = parallel();
        par.push(start.elapsed().as_secs_f64() * 1e3);
        assert_eq!(result, expected, "the parallel run disagrees with the sequential one");
    }
    (median(seq), median(par))
}

fn main() {
    let profile_name = std::env::args().nth(1).unwrap_or_else(|| "full".to_string());
    let profile = if profile_name == "quick" { QUICK } else { FULL };
    rayon::ThreadPoolBuilder::new().num_threads(THREADS).build_global().expect("a global pool of 2 threads");
    let unit = calibrate();
    let mut entries: Vec<String> = Vec::new();

    for (id, units) in [("C", vec![1u64; profile.cpu_tasks]), ("D", skewed_units(profile.skewed_tasks))] {
        let tasks: Vec<(u64, u32)> = units.iter().enumerate().map(|(seed, cost)| (cost * unit, seed as u32)).collect();
        let (seq, par) = compare(
            profile.rounds,
            || tasks.iter().map(|&(n, seed)| cpu(n, seed)).collect::<Vec<u32>>(),
            || tasks.par_iter().map(|&(n, seed)| cpu(n, seed)).collect::<Vec<u32>>(),
        );
        entries.push(format!("\"{id}\":{{\"sequentialMs\":{seq:.3},\"ms\":{par:.3},\"efficiency\":{:.2}}}", 100.0 * seq / (THREADS as f64 * par)));
    }

    let n = profile.fib_n;
    // black_box: without it the compiler works fib(n) out at build time.
    let (seq, par) = compare(profile.rounds, || fib_sequential(std::hint::black_box(n)), || fib_join(std::hint::black_box(n)));
    entries.push(format!("\"E\":{{\"sequentialMs\":{seq:.3},\"ms\":{par:.3},\"speedup\":{:.3}}}", seq / par));

    let mut input = vec![0i32; profile.sort_length];
    fill_random(&mut input, SORT_SEED);
    let (seq, par) = compare(
        profile.rounds,
        || {
            let mut values = input.clone();
            quicksort_sequential(&mut values);
            values
        },
        || {
            let mut values = input.clone();
            quicksort_join(&mut values);
            values
        },
    );
    entries.push(format!("\"F\":{{\"sequentialMs\":{seq:.3},\"ms\":{par:.3},\"speedup\":{:.3},\"includesCopyOfInput\":true}}", seq / par));

    let values: Vec<f64> = (0..profile.iter_length).map(|i| (i % 1000) as f64).collect();
    let (seq, par) = compare(profile.rounds, || values.iter().sum::<f64>(), || values.par_iter().sum::<f64>());
    entries.push(format!("\"G.sum\":{{\"sequentialMs\":{seq:.3},\"ms\":{par:.3},\"speedup\":{:.3}}}", seq / par));
    let mut out = vec![0f64; profile.iter_length];
    let (seq, par) = {
        let mut seq = Vec::new();
        let mut par = Vec::new();
        for _ in 0..=profile.rounds {
            let start = Instant::now();
            for (o, v) in out.iter_mut().zip(values.iter()) {
                *o = transform(*v);
            }
            seq.push(start.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(&out);
            let start = Instant::now();
            out.par_iter_mut().zip(values.par_iter()).for_each(|(o, v)| *o = transform(*v));
            par.push(start.elapsed().as_secs_f64() * 1e3);
            assert!(out.iter().zip(values.iter()).all(|(o, v)| *o == transform(*v)));
        }
        (median(seq[1..].to_vec()), median(par[1..].to_vec()))
    };
    entries.push(format!("\"G.map\":{{\"sequentialMs\":{seq:.3},\"ms\":{par:.3},\"speedup\":{:.3}}}", seq / par));

    let mut floats = vec![0f64; profile.par_sort_length];
    fill_random_f64(&mut floats, SORT_SEED);
    entries.extend(sort_entries("f64", profile.rounds, &floats, f64::total_cmp));
    let mut ints = vec![0i32; profile.par_sort_length];
    fill_random(&mut ints, SORT_SEED);
    entries.extend(sort_entries("i32", profile.rounds, &ints, i32::cmp));

    println!("{{\"profile\":\"{profile_name}\",\"threads\":{THREADS},\"unitIterations\":{unit},{}}}", entries.join(","));
}
