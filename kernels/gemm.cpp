#include "kernels/gemm.h"
#include "kernels/dispatch.h"

namespace convoy::kernels {

void sgemm(const Exec& exec, const GemmArgs& args) {
  if (args.M == 0 || args.N == 0) return;
CONVOY_DISPATCH(sgemm, args);
}

}  // namespace convoy::kernels
