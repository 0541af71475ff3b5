// SGD against torch.optim.SGD semantics: three steps worked out by hand for one scalar
// (values from the PyTorch update rule, dampening 0), a hand-unrolled 3-step sequence on
// vectors, the weight-decay exemption, and the fast path against the reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tests/common/test_util.h"
#include "engine/error.h"
#include "kernels/sgd.h"

namespace convoy {
namespace {

using kernels::SgdHyper;
using kernels::SgdTensor;
using test::random_vector;
using test::rel_error;

void step(const SgdHyper& h, std::vector<SgdTensor>& t, bool fast) {
  if (fast) kernels::cpu::sgd_update(h, t.data(), static_cast<int>(t.size()));
  else kernels::cpu::sgd_update_reference(h, t.data(), static_cast<int>(t.size()));
}

// p = 1, grads 0.5, -0.25, 0.125, lr 0.1, momentum 0.9. Nesterov, wd 0 by hand:
// step 1: buf 0.5, p = 1 - 0.1 * 0.95 = 0.905; step 2: buf 0.2, p = 0.905 + 0.1 * 0.07 = 0.912;
// step 3: buf 0.305, p = 0.912 - 0.1 * 0.3995 = 0.87205.
TEST(Sgd, ThreeScalarStepsMatchPyTorch) {
  struct Expect {
    bool nesterov;
    float wd;
    double p, buf;
  };
  for (const Expect& e : {Expect{false, 0.0f, 0.8995, 0.305}, Expect{false, 0.01f, 0.894059749, 0.33091251},
                          Expect{true, 0.0f, 0.87205, 0.305}, Expect{true, 0.01f, 0.864439208191, 0.3303036411}})
    for (bool fast : {false, true}) {
      std::vector<float> p = {1.0f}, g = {0.0f}, buf = {0.0f};
      std::vector<SgdTensor> t = {{p.data(), g.data(), buf.data(), 1, 1.0f}};
      const SgdHyper h{0.1f, 0.9f, e.wd, e.nesterov};
      for (float grad : {0.5f, -0.25f, 0.125f}) {
        g[0] = grad;
        step(h, t, fast);
      }
      EXPECT_NEAR(p[0], e.p, 1e-6) << "nesterov=" << e.nesterov << " wd=" << e.wd << " fast=" << fast;
      EXPECT_NEAR(buf[0], e.buf, 1e-6) << "nesterov=" << e.nesterov << " wd=" << e.wd << " fast=" << fast;
    }
}

// Two tensors (the second exempt from weight decay), three steps with fresh gradients,
// checked against the update rule unrolled step by step in double.
TEST(Sgd, ThreeVectorStepsUnrolled) {
  const int64_t n0 = 37, n1 = 5;
  for (bool nesterov : {false, true})
    for (bool fast : {false, true}) {
      const SgdHyper h{0.05f, 0.9f, 5e-4f, nesterov};
      auto p0 = random_vector(n0, 1), p1 = random_vector(n1, 2);
      std::vector<float> b0(n0, 0.0f), b1(n1, 0.0f), g0(n0), g1(n1);
      std::vector<double> ep0(p0.begin(), p0.end()), ep1(p1.begin(), p1.end()), eb0(n0, 0), eb1(n1, 0);
      std::vector<SgdTensor> t = {{p0.data(), g0.data(), b0.data(), n0, 1.0f},
                                  {p1.data(), g1.data(), b1.data(), n1, 0.0f}};
      for (int s = 0; s < 3; ++s) {
        const auto fresh0 = random_vector(n0, 10 + s), fresh1 = random_vector(n1, 20 + s);
        std::copy(fresh0.begin(), fresh0.end(), g0.begin());  // keep the buffers the SgdTensors point to
        std::copy(fresh1.begin(), fresh1.end(), g1.begin());
        step(h, t, fast);
        auto unrolled = [&](std::vector<double>& p, std::vector<double>& b, const std::vector<float>& g, double wd) {
          for (size_t i = 0; i < p.size(); ++i) {
            const double d = g[i] + wd * p[i];
            b[i] = 0.9 * b[i] + d;
            p[i] -= 0.05 * (nesterov ? d + 0.9 * b[i] : b[i]);
          }
        };
        unrolled(ep0, eb0, g0, 5e-4);
        unrolled(ep1, eb1, g1, 0.0);
      }
      for (int64_t i = 0; i < n0; ++i) ASSERT_NEAR(p0[i], ep0[i], 1e-6) << i;
      for (int64_t i = 0; i < n1; ++i) ASSERT_NEAR(p1[i], ep1[i], 1e-6) << i;
      for (int64_t i = 0; i < n1; ++i) ASSERT_NEAR(b1[i], eb1[i], 1e-6) << i;
    }
}

TEST(Sgd, WeightDecayScaleZeroExempts) {
  std::vector<float> p = {2.0f}, g = {0.5f}, buf = {0.0f};
  std::vector<SgdTensor> t = {{p.data(), g.data(), buf.data(), 1, 0.0f}};
  step({0.1f, 0.0f, 0.5f, false}, t, true);
  EXPECT_FLOAT_EQ(p[0], 2.0f - 0.1f * 0.5f);
}

TEST(Sgd, FastMatchesReferenceOnManyTensors) {
  const SgdHyper h{0.1f, 0.9f, 1e-3f, true};
  const std::vector<int64_t> sizes = {1, 3, 70001, 129, 40000};
  std::vector<std::vector<float>> pr, pf, br, bf, g;
  for (size_t k = 0; k < sizes.size(); ++k) {
    pr.push_back(random_vector(sizes[k], 30 + k));
    br.push_back(random_vector(sizes[k], 40 + k));
    g.push_back(random_vector(sizes[k], 50 + k));
  }
  pf = pr;
  bf = br;
  std::vector<SgdTensor> tr, tf;
  for (size_t k = 0; k < sizes.size(); ++k) {
    const float scale = k == 3 ? 0.0f : 1.0f;
    tr.push_back({pr[k].data(), g[k].data(), br[k].data(), sizes[k], scale});
    tf.push_back({pf[k].data(), g[k].data(), bf[k].data(), sizes[k], scale});
  }
  step(h, tr, false);
  step(h, tf, true);
  for (size_t k = 0; k < sizes.size(); ++k) {
    EXPECT_LT(rel_error(pf[k], pr[k]), 1e-6) << k;
    EXPECT_LT(rel_error(bf[k], br[k]), 1e-6) << k;
  }
}

TEST(Sgd, NegativeSizeIsAnErrorNamingTheTensor) {
  std::vector<float> p = {1.0f}, g = {1.0f}, b = {0.0f};
  std::vector<SgdTensor> t = {{p.data(), g.data(), b.data(), 1, 1.0f}, {p.data(), g.data(), b.data(), -1, 1.0f}};
  for (bool fast : {false, true}) {
    try {
      step({0.1f, 0.9f, 0.0f, false}, t, fast);
      ADD_FAILURE() << "no error for a negative size, fast=" << fast;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("tensor 1 has negative size -1"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(p[0], 1.0f) << "nothing is updated when the list is refused";
}

TEST(Sgd, MissingMomentumBufferIsAnError) {
  std::vector<float> p = {1.0f}, g = {1.0f};
  std::vector<SgdTensor> t = {{p.data(), g.data(), nullptr, 1, 1.0f}};
  EXPECT_THROW(step({0.1f, 0.9f, 0.0f, false}, t, true), Error);
  step({0.1f, 0.0f, 0.0f, false}, t, true);  // plain SGD needs no buffer
  EXPECT_FLOAT_EQ(p[0], 0.9f);
}

}  // namespace
}  // namespace convoy
