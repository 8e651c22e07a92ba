"""The debugging lesson's kit (lesson 10): probe environments, probe-sized agents, the course's own
training loops run on probes, and the suspects to diagnose.

It is the top layer of the package. The library (``course_utils``'s own modules) imports
nothing generated; ``course_utils.lessons`` imports the library and earlier lessons only;
this kit imports the lessons it probes (04's DQN, 07's REINFORCE, 08's actor-critic,
09's PPO and 10's probe classes), so it can come only after all of them.
``tests/test_layers.py`` holds every module to its layer.
"""

LESSON = "10"   # the debugging lesson's number: only it and later lessons may import this kit
