//! Absorption probabilities and expected value from `(start)`: Gauss–Seidel, with a dense
//! direct solve as the fallback.

use super::chain::Chain;
use super::{MAX_SWEEPS, TOLERANCE};
use crate::Error;

/// What a solve finds from `(start)`: conversion probability and (scaled) expected value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Absorbed {
    pub(super) conversion: f64,
    pub(super) value: f64,
}

impl Chain {
    /// Absorption from `(start)` with the `dead` states absorbing as `(null)`: Gauss–Seidel,
    /// or a direct solve if that gives up on a chain of at most `dense_limit` states.
    pub(super) fn absorb(
        &self,
        dead: &[bool],
        x: &mut [f64],
        y: &mut [f64],
        dense_limit: usize,
    ) -> Result<Absorbed, Error> {
        match self.gauss_seidel(dead, x, y) {
            Err(Error::NotConverged { .. }) if self.len() <= dense_limit => {
                self.direct(dead, x, y);
                Ok(self.at_start(x, y))
            }
            other => other,
        }
    }

    fn at_start(&self, x: &[f64], y: &[f64]) -> Absorbed {
        let absorbed = |v: &[f64]| -> f64 { self.start.iter().zip(v).map(|(p, v)| p * v).sum() };
        Absorbed {
            conversion: absorbed(x),
            value: absorbed(y),
        }
    }

    /// Solves `(I - Q) [x y] = [b_conversion b_value]` densely, by Gaussian elimination with
    /// partial pivoting.
    fn direct(&self, dead: &[bool], x: &mut [f64], y: &mut [f64]) {
        let n = self.len();
        let width = n + 2;
        let mut m = vec![0.0; n * width];
        for s in 0..n {
            let row = &mut m[s * width..(s + 1) * width];
            row[s] = 1.0;
            if dead[s] {
                continue;
            }
            row[s] -= self.self_loop[s];
            for e in self.row_start[s]..self.row_start[s + 1] {
                row[self.cols[e] as usize] -= self.probs[e];
            }
            row[n] = self.to_conversion[s];
            row[n + 1] = self.reward[s];
        }
        for col in 0..n {
            let pivot = (col..n)
                .max_by(|&i, &j| {
                    m[i * width + col]
                        .abs()
                        .total_cmp(&m[j * width + col].abs())
                })
                .expect("non-empty range");
            if pivot != col {
                for k in 0..width {
                    m.swap(col * width + k, pivot * width + k);
                }
            }
            let p = m[col * width + col];
            for row in col + 1..n {
                let f = m[row * width + col] / p;
                if f != 0.0 {
                    for k in col..width {
                        m[row * width + k] -= f * m[col * width + k];
                    }
                }
            }
        }
        for row in (0..n).rev() {
            let (mut a, mut b) = (m[row * width + n], m[row * width + n + 1]);
            for k in row + 1..n {
                a -= m[row * width + k] * x[k];
                b -= m[row * width + k] * y[k];
            }
            x[row] = a / m[row * width + row];
            y[row] = b / m[row * width + row];
        }
    }

    /// Solves `x = b + Qx` for conversion probability and expected value at once by
    /// Gauss–Seidel, with the `dead` states absorbing as `(null)`. `x` and `y` hold the
    /// starting guess.
    pub(super) fn gauss_seidel(
        &self,
        dead: &[bool],
        x: &mut [f64],
        y: &mut [f64],
    ) -> Result<Absorbed, Error> {
        let n = self.len();
        for s in 0..n {
            if dead[s] {
                x[s] = 0.0;
                y[s] = 0.0;
            }
        }
        let mut sweeps = 0;
        let mut residual = f64::INFINITY;
        while sweeps < MAX_SWEEPS {
            sweeps += 1;
            let (mut change_x, mut change_y): (f64, f64) = (0.0, 0.0);
            for s in (0..n).rev() {
                if dead[s] {
                    continue;
                }
                let (a, b) = self.off_diagonal(s, x, y);
                let stay = 1.0 - self.self_loop[s];
                let (a, b) = (a / stay, b / stay);
                change_x = change_x.max((a - x[s]).abs());
                change_y = change_y.max((b - y[s]).abs());
                x[s] = a;
                y[s] = b;
            }
            // A sweep that barely moves is a candidate; the residual decides.
            if change_x <= TOLERANCE * self.scale.0 && change_y <= TOLERANCE * self.scale.1 {
                residual = self.residual(dead, x, y);
                if residual <= TOLERANCE {
                    return Ok(self.at_start(x, y));
                }
            }
        }
        if residual.is_infinite() {
            residual = self.residual(dead, x, y);
        }
        Err(Error::NotConverged {
            order: self.order,
            sweeps,
            residual,
        })
    }

    /// The larger of the two relative residuals; 0 for a right-hand side that is all zero
    /// (then x = 0 is exact and the solve starts there or reaches it in one sweep).
    fn residual(&self, dead: &[bool], x: &[f64], y: &[f64]) -> f64 {
        let (mut worst_x, mut worst_y): (f64, f64) = (0.0, 0.0);
        for s in (0..self.len()).filter(|&s| !dead[s]) {
            let (mut a, mut b) = self.off_diagonal(s, x, y);
            a += self.self_loop[s] * x[s] - x[s];
            b += self.self_loop[s] * y[s] - y[s];
            worst_x = worst_x.max(a.abs());
            worst_y = worst_y.max(b.abs());
        }
        let relative = |worst: f64, scale: f64| if scale > 0.0 { worst / scale } else { worst };
        relative(worst_x, self.scale.0).max(relative(worst_y, self.scale.1))
    }

    /// Row `s` of `b + Qx` without the self-loop, for conversions (`x`) and value (`y`) at
    /// once: `b_s + Σ_{t≠s} P_st x_t`.
    fn off_diagonal(&self, s: usize, x: &[f64], y: &[f64]) -> (f64, f64) {
        let (mut a, mut b) = (self.to_conversion[s], self.reward[s]);
        for e in self.row_start[s]..self.row_start[s + 1] {
            let t = self.cols[e] as usize;
            a += self.probs[e] * x[t];
            b += self.probs[e] * y[t];
        }
        (a, b)
    }
}
