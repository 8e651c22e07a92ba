"""The instructor's tools behind the ``course`` command: build, grade, check, bench, doctor.

Students never import this subpackage; the notebooks use ``course_utils`` itself
(helpers, checks and the modules generated from the lessons). What these tools need
beyond the lessons' own dependencies is the ``instructor`` extra::

    pip install "course-utils[instructor]"
"""
