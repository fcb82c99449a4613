"""Recurrent cells, each written once for the CPU and for CUDA.

A cell module holds its math in the Numba subset that both ``numba.njit``
and ``numba.cuda.jit(device=True)`` accept (scalar loops over array
elements, no allocation, results written into arguments), as factories that
close over the compiled pieces a backend supplies: the activation
``sigma_dsigma`` (one table, ``_kernels/scalar.py``) and the small products
of ``_kernels/blocked.py``.  ``_kernels/population.py`` (CPU) and
``_kernels/cuda_population.py`` (CUDA) compile the same factories.

Work is shared by a team of ``n_workers`` threads (a CUDA block; on the CPU
a team of one): every per-step operation splits the batch's sequences
between workers, so a worker only ever reads the rows it wrote and a time
step needs no synchronisation; only the reductions over the batch (the
weight gradients) do.

- `rnn`: the vanilla RNN of Pascanu et al. (2013), eq. (2), in the paper and
  standard forms and with leak: one unit, one state vector (step, slopes,
  step Jacobian, JVP, VJP) and a batch of rows (the task model's training
  step and its VJP).  ``rnn.build(jit, sigma, dsigma, sigma_dsigma)``
  compiles it for a backend; ``_kernels/cpu.py`` and ``_kernels/cuda.py``
  cache one build per activation (``cell(name)``).
"""
