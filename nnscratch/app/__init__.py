"""The application layer: what ``nnscratch train``, ``eval``, ``predict``, ``info`` and ``serve`` are
made of, above the library.

    architectures.py   one record per architecture: its class, the options it takes, its defaults,
                       how it reads the data's shape; ``build_model`` and ``net_config``
    datasets.py        the datasets a run trains on, as arrays (``load_data``)
    builders.py        the optimizer, learning-rate schedule and train loader a run's settings name
    resume.py          the settings of a resumed or fine-tuned run
    pretraining.py     a deep belief net's layer-wise pre-training before fine-tuning
    rundir.py          the run directory: its file names, its default name, loading a trained model
    report.py          the test-set report, summary.txt and the plots

``nnscratch.presets`` holds the presets built on these records and ``nnscratch.runner.train_run``
puts the pieces together.
"""
