"""DQN's training loop, which lessons 04 and 05 call with the pieces lessons 02-05 taught.

The pieces themselves live in ``course_utils.lessons`` (generated from the lesson
solutions, one text each); ``agents.dqn`` puts them in lesson 03's loop with the
switches of lessons 04-05 and re-exports them. (REINFORCE's loop is lesson 06's own
``train``, in ``course_utils.lessons.lesson06``.) They hold the answers to the
earlier lessons' exercises: a course that grades for credit should know that.
"""
