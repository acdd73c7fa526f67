// NamWaveNetBlock.cpp built with AVX2 + FMA (CMakeLists.txt gives this file -mavx2 -mfma), for the
// _avx2 executables only.
#define MFX_NAM_AVX2 1
#include "NamWaveNetBlock.cpp"
