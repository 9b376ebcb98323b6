//! Summaries of measured durations, printed as one line each.
use std::time::Duration;

/// Median, 90th percentile and extremes of a sample.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Smallest.
    pub min: Duration,
    /// Median.
    pub median: Duration,
    /// 90th percentile (nearest rank).
    pub p90: Duration,
    /// Largest.
    pub max: Duration,
}

impl Summary {
    /// Summarises `samples` (at least one).
    pub fn of(samples: &[Duration]) -> Summary {
        assert!(!samples.is_empty(), "no samples");
        let mut sorted = samples.to_vec();
        sorted.sort();
        let rank =
            |q: f64| sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        Summary {
            n: sorted.len(),
            min: sorted[0],
            median: rank(0.5),
            p90: rank(0.9),
            max: sorted[sorted.len() - 1],
        }
    }

    /// Prints `MEASURE <name>: …` to stderr (shown with `--nocapture`) and returns self.
    pub fn print(self, name: &str) -> Self {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
            "MEASURE {name}: n={} median={:.2}ms p90={:.2}ms min={:.2}ms max={:.2}ms",
            self.n,
            ms(self.median),
            ms(self.p90),
            ms(self.min),
            ms(self.max)
        );
        self
    }
}

#[test]
fn summarises() {
    let samples: Vec<Duration> = (1..=10).map(Duration::from_millis).collect();
    let s = Summary::of(&samples);
    assert_eq!((s.n, s.min, s.max), (10, samples[0], samples[9]));
    assert_eq!(s.median, Duration::from_millis(5));
    assert_eq!(s.p90, Duration::from_millis(9));
}
