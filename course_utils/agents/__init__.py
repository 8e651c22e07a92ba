"""Reference versions of what earlier lessons taught, for later lessons to build on.

A later lesson imports these instead of copying an earlier lesson's code (lesson 07
compares actor-critic with ``agents.reinforce``). They are also the answers to the
earlier lessons' exercises: a course that grades for credit should know that.
"""
