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
- `gru` and `lstm`: the gated cells of PyTorch's ``torch.nn.GRU`` (gates r,
  z, n) and ``torch.nn.LSTM`` (gates i, f, g, o), parameters in its stacked
  layout ``(W_ih, W_hh, b_ih, b_hh)``: one state vector (the step, the step
  Jacobian over the full state -- ``h`` for the GRU, ``(h, c)`` of length 2n
  for the LSTM -- the JVP, the VJP, and ``deltas``: one BPTT step that also
  gives the errors on the gates' pre-activations).  ``gru.build(jit, sigmoid, tanh)``
  and ``lstm.build(...)`` compile them; ``_kernels/cpu.py`` caches one build
  per cell (``gated_cell("gru")``, ``gated_cell("lstm")``), and
  ``_kernels/gated.py`` holds the CPU kernels of `dynrnn.iterate`,
  `dynrnn.jacobian_products`, `dynrnn.lyapunov_spectrum`,
  `dynrnn.fixed_points` and `dynrnn.bptt` over them.  Their batch level
  (``make_step_rows``, ``make_vjp_rows``: B sequences as rows shared by a
  team, with the backend's products) is what `dynrnn.train`, the
  population engine (``_kernels/scalar_train_gated.py``, CPU and CUDA)
  and the task model's evaluation run.
"""
