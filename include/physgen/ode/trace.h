#pragma once
// Divergence (trace of the Jacobian) of a vector field, exactly or by Hutchinson's
// estimator, for continuous normalizing flows.
//
//   exact:       div v(x) = sum_i dv_i/dx_i          (d reverse passes: one per row of J)
//   Hutchinson:  div v(x) ~ eps^T (dv/dx) eps        (one reverse pass, E[eps eps^T] = I)
//
// with probes eps Rademacher (+-1 with probability 1/2; variance 2 sum_{i!=j} J_ij^2)
// or standard Gaussian (variance 2 ||J_sym||_F^2). Both are unbiased. The same pass
// gives the squared Jacobian Frobenius norm ||dv/dx||_F^2 (exact from the rows, or
// the unbiased estimate ||eps^T dv/dx||^2), the regulariser of Finlay et al.
//
// Shapes: x (n, d) with v = v(x) (n, d) computed from x with autograd; results (n).
// create_graph = true keeps the results differentiable (training).
//
// References: Hutchinson, Commun. Stat. Simul. Comput. 19 (1990) 433; Grathwohl et al.,
// "FFJORD", arXiv:1810.01367; Finlay et al., "How to train your neural ODE",
// arXiv:2002.02798.
#include <string>
#include <vector>

#include <torch/types.h>

namespace physgen {

/// Names of the trace estimators: "exact", "hutchinson".
std::vector<std::string> trace_estimators();
/// Names of the Hutchinson probe distributions: "gaussian", "rademacher".
std::vector<std::string> probe_distributions();

/// Per-sample divergence and (optionally) squared Jacobian Frobenius norm.
struct Divergence {
  torch::Tensor trace;         ///< (n)
  torch::Tensor frobenius_sq;  ///< (n), undefined unless requested
};

/// Exact divergence from d reverse passes. v must have been computed from x (x
/// requires grad); a v that does not depend on x gives zeros.
Divergence divergence_exact(const torch::Tensor& v, const torch::Tensor& x, bool create_graph,
                            bool frobenius = false);

/// Hutchinson estimate eps^T (dv/dx) eps from one reverse pass; eps has x's shape.
Divergence divergence_hutchinson(const torch::Tensor& v, const torch::Tensor& x,
                                 const torch::Tensor& eps, bool create_graph,
                                 bool frobenius = false);

/// A probe of `like`'s shape, dtype and device: "rademacher" or "gaussian"
/// (InvalidArgument otherwise). Uses LibTorch's default generator.
torch::Tensor sample_probe(const torch::Tensor& like, const std::string& distribution);

}  // namespace physgen
