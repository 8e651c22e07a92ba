"""The code each lesson teaches, generated from the lesson sources (one module per lesson).

``course build`` copies every code cell tagged ``export`` in ``notebooks/NN_*.ipynb``,
with its solution in, into ``lessonNN.py`` here: ``lesson04.td_targets`` is the very
text lesson 04's solution shows, and ``lesson04.train_dqn`` is the DQN loop lesson 04
runs and lessons 05 and 06 call with their own pieces. Later lessons, the bench and
the tests import these modules, so an algorithm piece has one text; ``course build --check`` fails when a module is out of
date with its notebook. Never edit them by hand.

The exercise checks in ``course_utils.checks`` keep their own small reference
implementations on purpose: an oracle written apart from the solution can catch a
mistake in it.
"""
