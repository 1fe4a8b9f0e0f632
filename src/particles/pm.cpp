#include "physgen/particles/pm.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {

void PmOptions::validate() const {
  check_arg(dim() == 2 || dim() == 3, "dim", dim(), "2 or 3");
  check_arg(mesh() >= 4 && mesh() % 2 == 0 && mesh() <= 2048, "mesh", mesh(), "an even number of cells in [4, 2048]");
  check_arg(laplace() == "exact" || laplace() == "discrete", "laplace", laplace(), "exact | discrete");
  check_arg(gradient() == "fourier" || gradient() == "fd2" || gradient() == "fd4", "gradient", gradient(),
            "fourier | fd2 | fd4");
  check_arg(r_split() >= 0, "r_split", r_split(), "a smoothing scale >= 0 (cells)");
}

namespace {

torch::Tensor cic_sinc(const torch::Tensor& x) {
  return torch::where(x.abs() < 1e-12, torch::ones_like(x), torch::sin(x) / x);
}

}  // namespace

std::vector<torch::Tensor> mesh_wavenumbers(int64_t n, int64_t d, bool rfft) {
  std::vector<torch::Tensor> k;
  for (int64_t i = 0; i < d; ++i) {
    const bool half = rfft && i == d - 1;
    const int64_t len = half ? n / 2 + 1 : n;
    torch::Tensor m = torch::arange(len, torch::kFloat64);
    if (!half) m = torch::where(m >= n / 2, m - n, m);  // -n/2 .. n/2-1 (numpy's convention)
    std::vector<int64_t> shape(d, 1);
    shape[i] = len;
    k.push_back((m * (2.0 * M_PI / n)).view(shape));
  }
  return k;
}

torch::Tensor zero_nyquist(const torch::Tensor& k) {
  return torch::where(k.abs() > M_PI - 1e-9, torch::zeros_like(k), k);
}

PmMesh::PmMesh(PmOptions options, torch::Dtype dtype, torch::Device device) : o_(std::move(options)) {
  o_.validate();
  topt_ = torch::TensorOptions().dtype(dtype).device(device);
  const int64_t n = o_.mesh(), d = o_.dim();
  for (int64_t i = 0; i < d; ++i) {
    fft_dims_.push_back(i);
    shape_.push_back(n);
  }
  torch::Tensor k2 = torch::zeros({}, torch::kFloat64), lap = torch::zeros({}, torch::kFloat64);
  torch::Tensor window = torch::ones({}, torch::kFloat64);
  const std::vector<torch::Tensor> ks = mesh_wavenumbers(n, d, true);
  for (const torch::Tensor& ki : ks) {
    k2 = k2 + ki * ki;
    lap = lap + 4.0 * torch::sin(ki / 2).pow(2);
    window = window * cic_sinc(ki / 2).pow(2);
    torch::Tensor g;
    if (o_.gradient() == "fourier") {
      g = zero_nyquist(ki);
    } else if (o_.gradient() == "fd2") {
      g = torch::sin(ki);
    } else {
      g = (8.0 * torch::sin(ki) - torch::sin(2.0 * ki)) / 6.0;
    }
    k_.push_back(ki.to(topt_));
    grad_.push_back(g.to(topt_));
  }
  const torch::Tensor denom = o_.laplace() == "exact" ? k2 : lap;
  torch::Tensor green = torch::where(denom > 0, -1.0 / torch::where(denom > 0, denom, torch::ones_like(denom)),
                                     torch::zeros_like(denom));
  if (o_.r_split() > 0) green = green * torch::exp(-k2 * o_.r_split() * o_.r_split());
  if (o_.compensate_cic()) green = green / window;  // the painting window, as FastPM / JaxPM
  green_ = green.to(topt_);
  kmag_ = k2.sqrt().to(topt_);
}

namespace {
// The 2^d CIC corners of positions `pos` (N, d) on a periodic mesh of n cells per side: flat
// indices (2^d, N) and weights (2^d, N), differentiable in pos through the weights.
std::pair<torch::Tensor, torch::Tensor> cic_corners(const torch::Tensor& pos, int64_t n) {
  const int64_t d = pos.size(1);
  const torch::Tensor base = torch::floor(pos.detach());
  const torch::Tensor frac = pos - base;  // in [0, 1), carries the gradient
  const torch::Tensor ib = base.to(torch::kLong);
  std::vector<torch::Tensor> idx, w;
  for (int64_t c = 0; c < (int64_t{1} << d); ++c) {
    torch::Tensor flat = torch::zeros({pos.size(0)}, torch::kLong);
    torch::Tensor weight;
    for (int64_t j = 0; j < d; ++j) {
      const int64_t bit = (c >> (d - 1 - j)) & 1;
      const torch::Tensor ij = torch::remainder(ib.select(1, j) + bit, n);
      flat = flat * n + ij;
      const torch::Tensor wj = bit ? frac.select(1, j) : 1.0 - frac.select(1, j);
      weight = weight.defined() ? weight * wj : wj;
    }
    idx.push_back(flat);
    w.push_back(weight);
  }
  return {torch::stack(idx), torch::stack(w)};
}
}  // namespace

torch::Tensor cic_paint(const torch::Tensor& pos, int64_t n, double mass) {
  const int64_t d = pos.size(1);
  auto [idx, w] = cic_corners(pos, n);
  const int64_t cells = static_cast<int64_t>(std::pow(n, d));
  torch::Tensor rho = torch::zeros({cells}, pos.options());
  rho = rho.scatter_add(0, idx.flatten(), (w * mass).flatten());
  return rho.view(std::vector<int64_t>(d, n));
}

torch::Tensor PmMesh::paint(const torch::Tensor& pos, double mass) const { return cic_paint(pos, o_.mesh(), mass); }

torch::Tensor PmMesh::readout(const torch::Tensor& field, const torch::Tensor& pos) const {
  const int64_t n = o_.mesh(), d = o_.dim();
  auto [idx, w] = cic_corners(pos, n);
  const bool vector = field.dim() == d + 1;
  const torch::Tensor flat = vector ? field.reshape({field.size(0), -1}) : field.reshape({1, -1});
  // (C, 2^d * N) values at the corners, weighted and summed over corners.
  torch::Tensor v = flat.index_select(1, idx.flatten()).view({flat.size(0), idx.size(0), idx.size(1)});
  torch::Tensor out = (v * w.unsqueeze(0)).sum(1);  // (C, N)
  return vector ? out.t() : out.squeeze(0);
}

torch::Tensor PmMesh::potential_k(const torch::Tensor& delta, const PotentialFilter& filter) const {
  torch::Tensor dk = torch::fft::rfftn(delta, c10::nullopt, fft_dims_);
  torch::Tensor phik = dk * green_;
  if (filter) phik = phik * filter(kmag_);
  return phik;
}

torch::Tensor PmMesh::potential(const torch::Tensor& delta, const PotentialFilter& filter) const {
  return torch::fft::irfftn(potential_k(delta, filter), shape_, fft_dims_);
}

torch::Tensor PmMesh::force_field(const torch::Tensor& phi_k) const {
  std::vector<torch::Tensor> f;
  for (int64_t i = 0; i < o_.dim(); ++i) {
    // F_i = -IFFT(i D_i phi_k)
    const torch::Tensor gk = phi_k * grad_[i] * c10::complex<double>(0.0, -1.0);
    f.push_back(torch::fft::irfftn(gk, shape_, fft_dims_));
  }
  return torch::stack(f);
}

torch::Tensor PmMesh::forces(const torch::Tensor& pos, double mass, const PotentialFilter& filter) const {
  const torch::Tensor delta = paint(pos, mass) - 1.0;
  return readout(force_field(potential_k(delta, filter)), pos);
}

namespace {
// Shell index of every mode of the full FFT grid (n,)*d, -1 outside the shells, and k_f units.
struct Shells {
  torch::Tensor index;  // (n^d,) long in [0, B] (B = dump for out-of-range modes)
  torch::Tensor kabs;   // (n^d,) |k| in h/Mpc
  int64_t bins;
};

Shells shells(int64_t n, int64_t d, double box) {
  torch::Tensor k2 = torch::zeros({}, torch::kFloat64);
  for (const torch::Tensor& ki : mesh_wavenumbers(n, d, false)) k2 = k2 + ki * ki;
  const torch::Tensor mabs = k2.sqrt().flatten() * (n / (2.0 * M_PI));  // |m|
  const int64_t bins = n / 2;
  torch::Tensor b = torch::floor(mabs - 0.5).to(torch::kLong);  // [b + 1/2, b + 3/2)
  b = torch::where((b < 0) | (b >= bins), torch::full_like(b, bins), b);
  return {b, mabs * (2.0 * M_PI / box), bins};
}
}  // namespace

namespace {
// Checks a field (n,)*d with d = 2 or 3 and returns its DFT over all axes (divided by the CIC
// window with `compensate_cic`).
torch::Tensor field_transform(const torch::Tensor& f, const char* name, bool compensate_cic) {
  const int64_t d = f.dim();
  check_arg(d == 2 || d == 3, std::string(name) + ".dim()", d, "a 2-D or 3-D field");
  const int64_t n = f.size(0);
  for (int64_t i = 0; i < d; ++i) check_arg(f.size(i) == n, std::string(name) + ".shape", f.sizes(), "a cubic mesh");
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < d; ++i) dims.push_back(i);
  torch::Tensor fk = torch::fft::fftn(f, c10::nullopt, dims);
  if (compensate_cic) {
    torch::Tensor w = torch::ones({}, torch::kFloat64);
    for (const torch::Tensor& ki : mesh_wavenumbers(n, d, false)) w = w * cic_sinc(ki / 2).pow(2);
    fk = fk / w.to(f.scalar_type());
  }
  return fk;
}

// The shell averages of Re(a_k b_k^*) of two transforms of (n,)*d fields on a box of side `box`.
PowerSpectrum shell_average(const torch::Tensor& ak, const torch::Tensor& bk, double box) {
  const int64_t d = ak.dim(), n = ak.size(0);
  const torch::Tensor cross = torch::real(ak * torch::conj(bk)).flatten();
  const Shells s = shells(n, d, box);
  const double cells = std::pow(static_cast<double>(n), static_cast<double>(d));
  const double volume = std::pow(box, static_cast<double>(d));
  torch::Tensor sum = torch::zeros({s.bins + 1}, cross.options()).scatter_add(0, s.index, cross);
  torch::Tensor cnt = torch::zeros({s.bins + 1}, torch::kFloat64).scatter_add(0, s.index, torch::ones_like(s.kabs));
  torch::Tensor ksum = torch::zeros({s.bins + 1}, torch::kFloat64).scatter_add(0, s.index, s.kabs);
  cnt = cnt.narrow(0, 0, s.bins);
  PowerSpectrum out;
  out.modes = cnt;
  out.k = ksum.narrow(0, 0, s.bins) / cnt;
  out.power = sum.narrow(0, 0, s.bins) / cnt.to(cross.scalar_type()) * (volume / (cells * cells));
  return out;
}
}  // namespace

PowerSpectrum power_spectrum(const torch::Tensor& delta, double box, const torch::Tensor& other,
                             bool compensate_cic) {
  check_arg(box > 0, "box", box, "a positive box size (Mpc/h)");
  if (other.defined()) check_arg(other.sizes() == delta.sizes(), "other.shape", other.sizes(), "the shape of delta");
  const torch::Tensor ak = field_transform(delta, "delta", compensate_cic);
  return shell_average(ak, other.defined() ? field_transform(other, "other", compensate_cic) : ak, box);
}

PowerSpectrum cross_correlation(const torch::Tensor& a, const torch::Tensor& b, double box, bool compensate_cic) {
  check_arg(box > 0, "box", box, "a positive box size (Mpc/h)");
  check_arg(b.sizes() == a.sizes(), "b.shape", b.sizes(), "the shape of a");
  // Each field transformed once for the three spectra.
  const torch::Tensor ak = field_transform(a, "a", compensate_cic), bk = field_transform(b, "b", compensate_cic);
  PowerSpectrum ab = shell_average(ak, bk, box);
  ab.power = ab.power / torch::sqrt(shell_average(ak, ak, box).power * shell_average(bk, bk, box).power);
  return ab;
}

torch::Tensor ewald_force(const torch::Tensor& r, int64_t n, double mass) {
  check_arg(r.dim() == 2 && (r.size(1) == 2 || r.size(1) == 3), "r.shape", r.sizes(), "(M, 2) or (M, 3)");
  check_arg(n >= 2, "n", n, "a box of >= 2 cells");
  const int64_t d = r.size(1);
  const torch::Tensor x = r.to(torch::kFloat64).contiguous();
  const double alpha = 6.0 / n, volume = std::pow(static_cast<double>(n), static_cast<double>(d));
  auto acc = x.accessor<double, 2>();
  torch::Tensor out = torch::zeros({x.size(0), d}, torch::kFloat64);
  auto o = out.accessor<double, 2>();
  const int img = 2, kmax = 14;
  for (int64_t p = 0; p < x.size(0); ++p) {
    double f[3] = {0, 0, 0};
    // Real-space images.
    for (int a = -img; a <= img; ++a)
      for (int b = -img; b <= img; ++b)
        for (int c = (d == 3 ? -img : 0); c <= (d == 3 ? img : 0); ++c) {
          double rv[3] = {acc[p][0] + a * n, acc[p][1] + b * n, d == 3 ? acc[p][2] + c * n : 0.0};
          const double rr2 = rv[0] * rv[0] + rv[1] * rv[1] + rv[2] * rv[2];
          if (rr2 == 0) continue;
          const double rr = std::sqrt(rr2);
          double coef;
          if (d == 3) {
            coef = -mass / (4 * M_PI * rr2 * rr) *
                   (std::erfc(alpha * rr) + 2 * alpha * rr / std::sqrt(M_PI) * std::exp(-alpha * alpha * rr2));
          } else {
            coef = -mass * std::exp(-alpha * alpha * rr2) / (2 * M_PI * rr2);
          }
          for (int64_t i = 0; i < d; ++i) f[i] += coef * rv[i];
        }
    // Reciprocal sum.
    for (int a = -kmax; a <= kmax; ++a)
      for (int b = -kmax; b <= kmax; ++b)
        for (int c = (d == 3 ? -kmax : 0); c <= (d == 3 ? kmax : 0); ++c) {
          if (a == 0 && b == 0 && c == 0) continue;
          const double kv[3] = {2 * M_PI * a / n, 2 * M_PI * b / n, 2 * M_PI * c / n};
          const double k2 = kv[0] * kv[0] + kv[1] * kv[1] + kv[2] * kv[2];
          double kr = 0;
          for (int64_t i = 0; i < d; ++i) kr += kv[i] * acc[p][i];
          const double coef = -mass / volume * std::sin(kr) * std::exp(-k2 / (4 * alpha * alpha)) / k2;
          for (int64_t i = 0; i < d; ++i) f[i] += coef * kv[i];
        }
    for (int64_t i = 0; i < d; ++i) o[p][i] = f[i];
  }
  return out;
}

}  // namespace physgen
