"""Known-answer renderings of every notice type, in English and Russian.

The expected texts are written by hand, not produced by the code under test: DMS from
the decimal degrees (28.0333333° is 100919.99988″, 28°02'00"), MGRS checked against an
independent UTM projection (pyproj) and the MGRS lettering rules, feet as metres /
0.3048, nautical miles as metres / 1852. Free text stays in the sender's language in
both renderings.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotline.domain.notices.models import parse_notice, to_wire
from hotline.render.notices import render

from .conftest import load_example, render_example

MISSILE_EN = """\
HOTLINE MESSAGE
FROM: RU
TO: US
MSG ID: 0f6c2a1e-7b3d-4e59-8a21-5c9d3e7f1a04
DTG: 011200Z DEC 26
SUBJECT: ACTIVITY NOTICE
1. ACTIVITY: MISSILE LAUNCH
2. VOLUMES: 1
2.1. VOLUME V1
    SHAPE: CIRCLE
    CENTRE: 48°30'00"N 045°45'00"E, MGRS 38U NU 55403 72147
    RADIUS: 20.0 km (10.8 NM)
    ALTITUDE: FROM 0 m (0 ft, FL000) TO 1200000 m (3937008 ft) MSL
    TIME: FROM 030900Z DEC 26 TO 031500Z DEC 26
3. UNITS: 1
3.1. Полигон Капустин Яр — MISSILES: 1
4. CONTACT FREQUENCY: NONE
5. REMARKS: Испытательный пуск баллистической ракеты.
6. LAUNCH AREA
    SHAPE: CIRCLE
    CENTRE: 48°30'00"N 045°45'00"E, MGRS 38U NU 55403 72147
    RADIUS: 5.0 km (2.7 NM)
7. IMPACT AREA
    SHAPE: POLYGON, 4 POINTS
    POINT 1: 46°00'00"N 072°30'00"E, MGRS 43T CL 06421 97086
    POINT 2: 46°00'00"N 073°30'00"E, MGRS 43T CL 83851 95141
    POINT 3: 46°30'00"N 073°30'00"E, MGRS 43T CM 84902 50696
    POINT 4: 46°30'00"N 072°30'00"E, MGRS 43T CM 08173 52640
END OF MESSAGE
"""

MISSILE_RU = """\
СООБЩЕНИЕ ПО ЛИНИИ ПРЯМОЙ СВЯЗИ
ОТ: RU
КОМУ: US
НОМЕР СООБЩЕНИЯ: 0f6c2a1e-7b3d-4e59-8a21-5c9d3e7f1a04
ДАТА-ВРЕМЯ: 011200Z ДЕК 26
ТЕМА: УВЕДОМЛЕНИЕ О ДЕЯТЕЛЬНОСТИ
1. ВИД ДЕЯТЕЛЬНОСТИ: ПУСК РАКЕТЫ
2. ЗОНЫ: 1
2.1. ЗОНА V1
    ФОРМА: КРУГ
    ЦЕНТР: 48°30'00" с.ш. 045°45'00" в.д., MGRS 38U NU 55403 72147
    РАДИУС: 20,0 км (10,8 мор. мили)
    ВЫСОТА: ОТ 0 м (0 фт, ЭШ000) ДО 1200000 м (3937008 фт) НАД УРОВНЕМ МОРЯ
    ВРЕМЯ: С 030900Z ДЕК 26 ДО 031500Z ДЕК 26
3. СИЛЫ И СРЕДСТВА: 1
3.1. Полигон Капустин Яр — РАКЕТЫ: 1
4. ЧАСТОТА СВЯЗИ: НЕТ
5. ПРИМЕЧАНИЯ: Испытательный пуск баллистической ракеты.
6. РАЙОН ПУСКА
    ФОРМА: КРУГ
    ЦЕНТР: 48°30'00" с.ш. 045°45'00" в.д., MGRS 38U NU 55403 72147
    РАДИУС: 5,0 км (2,7 мор. мили)
7. РАЙОН ПАДЕНИЯ
    ФОРМА: МНОГОУГОЛЬНИК, ТОЧЕК: 4
    ТОЧКА 1: 46°00'00" с.ш. 072°30'00" в.д., MGRS 43T CL 06421 97086
    ТОЧКА 2: 46°00'00" с.ш. 073°30'00" в.д., MGRS 43T CL 83851 95141
    ТОЧКА 3: 46°30'00" с.ш. 073°30'00" в.д., MGRS 43T CM 84902 50696
    ТОЧКА 4: 46°30'00" с.ш. 072°30'00" в.д., MGRS 43T CM 08173 52640
КОНЕЦ СООБЩЕНИЯ
"""

HAZARD_EN = """\
HOTLINE MESSAGE
FROM: US
TO: RU
MSG ID: 6a0e4b8c-1f2d-4c3a-9b5e-7d8f0a1b2c3d
DTG: 030800Z DEC 26
SUBJECT: ACTIVITY NOTICE
1. ACTIVITY: HAZARDOUS ACTIVITY
2. VOLUMES: 1
2.1. VOLUME G1
    SHAPE: CORRIDOR, 2 POINTS
    WIDTH: 10.0 km (5.4 NM)
    POINT 1: 55°30'00"N 018°30'00"E, MGRS 34U CG 42091 53273
    POINT 2: 55°30'00"N 019°30'00"E, MGRS 34U DG 05247 51455
    ALTITUDE: FROM 0 m (0 ft, FL000) TO 3000 m (9843 ft, FL098) MSL
    TIME: FROM 070600Z DEC 26 TO 071400Z DEC 26
3. UNITS: 1
3.1. USS Porter (DDG-78) — SURFACE SHIPS: 1
4. CONTACT FREQUENCY: 156.800 MHz
5. REMARKS: Live gunnery. Ships and aircraft are requested to remain clear of the corridor.
END OF MESSAGE
"""

HAZARD_RU = """\
СООБЩЕНИЕ ПО ЛИНИИ ПРЯМОЙ СВЯЗИ
ОТ: US
КОМУ: RU
НОМЕР СООБЩЕНИЯ: 6a0e4b8c-1f2d-4c3a-9b5e-7d8f0a1b2c3d
ДАТА-ВРЕМЯ: 030800Z ДЕК 26
ТЕМА: УВЕДОМЛЕНИЕ О ДЕЯТЕЛЬНОСТИ
1. ВИД ДЕЯТЕЛЬНОСТИ: ОПАСНАЯ ДЕЯТЕЛЬНОСТЬ
2. ЗОНЫ: 1
2.1. ЗОНА G1
    ФОРМА: КОРИДОР, ТОЧЕК: 2
    ШИРИНА: 10,0 км (5,4 мор. мили)
    ТОЧКА 1: 55°30'00" с.ш. 018°30'00" в.д., MGRS 34U CG 42091 53273
    ТОЧКА 2: 55°30'00" с.ш. 019°30'00" в.д., MGRS 34U DG 05247 51455
    ВЫСОТА: ОТ 0 м (0 фт, ЭШ000) ДО 3000 м (9843 фт, ЭШ098) НАД УРОВНЕМ МОРЯ
    ВРЕМЯ: С 070600Z ДЕК 26 ДО 071400Z ДЕК 26
3. СИЛЫ И СРЕДСТВА: 1
3.1. USS Porter (DDG-78) — НАДВОДНЫЕ КОРАБЛИ: 1
4. ЧАСТОТА СВЯЗИ: 156.800 MHz
5. ПРИМЕЧАНИЯ: Live gunnery. Ships and aircraft are requested to remain clear of the corridor.
КОНЕЦ СООБЩЕНИЯ
"""

INCIDENT_EN = """\
HOTLINE MESSAGE
FROM: US
TO: RU
MSG ID: 2b9d6e1f-3a4c-4d5e-8f70-1a2b3c4d5e6f
DTG: 140741Z NOV 26
SUBJECT: INCIDENT REPORT
1. TIME OF INCIDENT: 140703Z NOV 26
2. POSITION: 43°15'00"N 032°30'00"E, MGRS 36T VN 59411 88698
3. ALTITUDE: 7500 m (24606 ft, FL246) MSL
4. CATEGORY: UNSAFE INTERCEPT
5. SENDER'S UNITS: 1
5.1. MQ-9 Reaper — UNMANNED AIRCRAFT: 1
6. OTHER SIDE'S UNITS: 1
6.1. Su-27 — AIRCRAFT: 2
7. DESCRIPTION: Two Su-27 aircraft made repeated close passes, released fuel in front of \
the unmanned aircraft and passed within 10 m of it.
END OF MESSAGE
"""

INCIDENT_RU = """\
СООБЩЕНИЕ ПО ЛИНИИ ПРЯМОЙ СВЯЗИ
ОТ: US
КОМУ: RU
НОМЕР СООБЩЕНИЯ: 2b9d6e1f-3a4c-4d5e-8f70-1a2b3c4d5e6f
ДАТА-ВРЕМЯ: 140741Z НОЯ 26
ТЕМА: ДОНЕСЕНИЕ ОБ ИНЦИДЕНТЕ
1. ВРЕМЯ ИНЦИДЕНТА: 140703Z НОЯ 26
2. МЕСТО: 43°15'00" с.ш. 032°30'00" в.д., MGRS 36T VN 59411 88698
3. ВЫСОТА: 7500 м (24606 фт, ЭШ246) НАД УРОВНЕМ МОРЯ
4. КАТЕГОРИЯ: НЕБЕЗОПАСНЫЙ ПЕРЕХВАТ
5. СИЛЫ И СРЕДСТВА ОТПРАВИТЕЛЯ: 1
5.1. MQ-9 Reaper — БЕСПИЛОТНЫЕ ЛЕТАТЕЛЬНЫЕ АППАРАТЫ: 1
6. СИЛЫ И СРЕДСТВА ДРУГОЙ СТОРОНЫ: 1
6.1. Su-27 — САМОЛЁТЫ: 2
7. ОПИСАНИЕ: Two Su-27 aircraft made repeated close passes, released fuel in front of \
the unmanned aircraft and passed within 10 m of it.
КОНЕЦ СООБЩЕНИЯ
"""

REQUEST_EN = """\
HOTLINE MESSAGE
FROM: US
TO: RU
MSG ID: 7c1e5b2a-4d3f-4a8e-b6c9-0e1f2a3b4c5d
DTG: 201520Z NOV 26
SUBJECT: DECONFLICTION REQUEST
1. REFERENCE: MSG ID 3f2a9c4e-8b1d-4e6f-9a7c-2d5e8f1b3c6a
2. VOLUMES OF CONCERN: 1
2.1. VOLUME V1 OF MSG ID 3f2a9c4e-8b1d-4e6f-9a7c-2d5e8f1b3c6a, VERSION 1
3. PROPOSED VOLUMES: NONE
4. CONCERN: The western edge of volume V1 of your notice is 30 km from the Polish border. \
Request you move it 20 km east.
END OF MESSAGE
"""

REQUEST_RU = """\
СООБЩЕНИЕ ПО ЛИНИИ ПРЯМОЙ СВЯЗИ
ОТ: US
КОМУ: RU
НОМЕР СООБЩЕНИЯ: 7c1e5b2a-4d3f-4a8e-b6c9-0e1f2a3b4c5d
ДАТА-ВРЕМЯ: 201520Z НОЯ 26
ТЕМА: ЗАПРОС О ПРЕДОТВРАЩЕНИИ КОНФЛИКТНОЙ СИТУАЦИИ
1. ССЫЛКА: СООБЩЕНИЕ 3f2a9c4e-8b1d-4e6f-9a7c-2d5e8f1b3c6a
2. ЗОНЫ, ВЫЗЫВАЮЩИЕ ОЗАБОЧЕННОСТЬ: 1
2.1. ЗОНА V1 СООБЩЕНИЯ 3f2a9c4e-8b1d-4e6f-9a7c-2d5e8f1b3c6a, ВЕРСИЯ 1
3. ПРЕДЛАГАЕМЫЕ ЗОНЫ: НЕТ
4. ПРИЧИНА ОБЕСПОКОЕННОСТИ: The western edge of volume V1 of your notice is 30 km from \
the Polish border. Request you move it 20 km east.
КОНЕЦ СООБЩЕНИЯ
"""

# The older form of a request (before notice versions): the volumes of concern copied in.
# Stored messages of that form still parse and render exactly as they did.
REQUEST_QUOTED_EN = """\
HOTLINE MESSAGE
FROM: US
TO: RU
MSG ID: 7c1e5b2a-4d3f-4a8e-b6c9-0e1f2a3b4c5d
DTG: 201520Z NOV 26
SUBJECT: DECONFLICTION REQUEST
1. REFERENCE: MSG ID 3f2a9c4e-8b1d-4e6f-9a7c-2d5e8f1b3c6a
2. VOLUMES: 1
2.1. VOLUME V1
    SHAPE: POLYGON, 4 POINTS
    POINT 1: 53°30'00"N 024°12'00"E, MGRS 35U LV 14290 31542
    POINT 2: 53°30'00"N 025°12'00"E, MGRS 35U LV 80607 29401
    POINT 3: 54°00'00"N 025°12'00"E, MGRS 35U LV 82016 85021
    POINT 4: 54°00'00"N 024°12'00"E, MGRS 35U LV 16483 87150
    ALTITUDE: FROM 0 m (0 ft, FL000) TO 9000 m (29528 ft, FL295) MSL
    TIME: FROM 250800Z NOV 26 TO 251200Z NOV 26
3. CONCERN: The western edge of volume V1 of your notice is 30 km from the Polish border. \
Request you move it 20 km east.
END OF MESSAGE
"""

REQUEST_QUOTED_RU = """\
СООБЩЕНИЕ ПО ЛИНИИ ПРЯМОЙ СВЯЗИ
ОТ: US
КОМУ: RU
НОМЕР СООБЩЕНИЯ: 7c1e5b2a-4d3f-4a8e-b6c9-0e1f2a3b4c5d
ДАТА-ВРЕМЯ: 201520Z НОЯ 26
ТЕМА: ЗАПРОС О ПРЕДОТВРАЩЕНИИ КОНФЛИКТНОЙ СИТУАЦИИ
1. ССЫЛКА: СООБЩЕНИЕ 3f2a9c4e-8b1d-4e6f-9a7c-2d5e8f1b3c6a
2. ЗОНЫ: 1
2.1. ЗОНА V1
    ФОРМА: МНОГОУГОЛЬНИК, ТОЧЕК: 4
    ТОЧКА 1: 53°30'00" с.ш. 024°12'00" в.д., MGRS 35U LV 14290 31542
    ТОЧКА 2: 53°30'00" с.ш. 025°12'00" в.д., MGRS 35U LV 80607 29401
    ТОЧКА 3: 54°00'00" с.ш. 025°12'00" в.д., MGRS 35U LV 82016 85021
    ТОЧКА 4: 54°00'00" с.ш. 024°12'00" в.д., MGRS 35U LV 16483 87150
    ВЫСОТА: ОТ 0 м (0 фт, ЭШ000) ДО 9000 м (29528 фт, ЭШ295) НАД УРОВНЕМ МОРЯ
    ВРЕМЯ: С 250800Z НОЯ 26 ДО 251200Z НОЯ 26
3. ПРИЧИНА ОБЕСПОКОЕННОСТИ: The western edge of volume V1 of your notice is 30 km from \
the Polish border. Request you move it 20 km east.
КОНЕЦ СООБЩЕНИЯ
"""

CONCURRENCE_EN = """\
HOTLINE MESSAGE
FROM: US
TO: RU
MSG ID: a7b8c9d0-1e2f-4a3b-8c4d-5e6f7a8b9c0d
DTG: 210730Z NOV 26
SUBJECT: DECONFLICTION CONCURRENCE
1. REFERENCE: MSG ID c4d5e6f7-0a1b-4c2d-8e3f-9a0b1c2d3e4f
2. ANSWER: CONCUR WITH THE COUNTER-PROPOSAL
3. REASON: Volume V1 as moved keeps 50 km from the Polish border.
END OF MESSAGE
"""

CONCURRENCE_RU = """\
СООБЩЕНИЕ ПО ЛИНИИ ПРЯМОЙ СВЯЗИ
ОТ: US
КОМУ: RU
НОМЕР СООБЩЕНИЯ: a7b8c9d0-1e2f-4a3b-8c4d-5e6f7a8b9c0d
ДАТА-ВРЕМЯ: 210730Z НОЯ 26
ТЕМА: СОГЛАСИЕ СО ВСТРЕЧНЫМ ПРЕДЛОЖЕНИЕМ
1. ССЫЛКА: СООБЩЕНИЕ c4d5e6f7-0a1b-4c2d-8e3f-9a0b1c2d3e4f
2. ОТВЕТ: СОГЛАСНЫ СО ВСТРЕЧНЫМ ПРЕДЛОЖЕНИЕМ
3. ОБОСНОВАНИЕ: Volume V1 as moved keeps 50 km from the Polish border.
КОНЕЦ СООБЩЕНИЯ
"""

AMENDMENT_EN = """\
HOTLINE MESSAGE
FROM: RU
TO: US
MSG ID: d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a
DTG: 301000Z AUG 27
SUBJECT: NOTICE AMENDMENT
1. AMENDED NOTICE: MSG ID 9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e
2. REASON: Учение сокращено на двое суток.
3. NEW VERSION: EXERCISE NOTIFICATION: Щит Союза-2027
4. EXERCISE: Щит Союза-2027
5. TIME: FROM 100400Z SEP 27 TO 141600Z SEP 27
6. AREA
    SHAPE: POLYGON, 4 POINTS
    POINT 1: 53°00'00"N 027°00'00"E, MGRS 35U NU 00000 72270
    POINT 2: 53°00'00"N 029°00'00"E, MGRS 35U PU 34213 74141
    POINT 3: 54°00'00"N 029°00'00"E, MGRS 35U PV 31090 85372
    POINT 4: 54°00'00"N 027°00'00"E, MGRS 35U NV 00000 83521
7. TROOPS: 14500
8. EQUIPMENT:
    TANKS: 250
    ARMOURED COMBAT VEHICLES: 470
    ARTILLERY PIECES: 240
    AIRCRAFT: 80
    HELICOPTERS: 40
9. OBSERVERS INVITED: YES
10. UNITS: 1
10.1. 1-я гвардейская танковая армия — GROUND UNITS: 1
11. REMARKS: Командно-штабное учение с практическими действиями войск.
END OF MESSAGE
"""

AMENDMENT_RU = """\
СООБЩЕНИЕ ПО ЛИНИИ ПРЯМОЙ СВЯЗИ
ОТ: RU
КОМУ: US
НОМЕР СООБЩЕНИЯ: d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a
ДАТА-ВРЕМЯ: 301000Z АВГ 27
ТЕМА: ИЗМЕНЕНИЕ УВЕДОМЛЕНИЯ
1. ИЗМЕНЯЕМОЕ УВЕДОМЛЕНИЕ: СООБЩЕНИЕ 9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e
2. ОБОСНОВАНИЕ: Учение сокращено на двое суток.
3. НОВАЯ РЕДАКЦИЯ: УВЕДОМЛЕНИЕ ОБ УЧЕНИИ: Щит Союза-2027
4. УЧЕНИЕ: Щит Союза-2027
5. ВРЕМЯ: С 100400Z СЕН 27 ДО 141600Z СЕН 27
6. РАЙОН
    ФОРМА: МНОГОУГОЛЬНИК, ТОЧЕК: 4
    ТОЧКА 1: 53°00'00" с.ш. 027°00'00" в.д., MGRS 35U NU 00000 72270
    ТОЧКА 2: 53°00'00" с.ш. 029°00'00" в.д., MGRS 35U PU 34213 74141
    ТОЧКА 3: 54°00'00" с.ш. 029°00'00" в.д., MGRS 35U PV 31090 85372
    ТОЧКА 4: 54°00'00" с.ш. 027°00'00" в.д., MGRS 35U NV 00000 83521
7. ЛИЧНЫЙ СОСТАВ: 14500
8. ВООРУЖЕНИЕ И ВОЕННАЯ ТЕХНИКА:
    ТАНКИ: 250
    БОЕВЫЕ БРОНИРОВАННЫЕ МАШИНЫ: 470
    АРТИЛЛЕРИЙСКИЕ СИСТЕМЫ: 240
    САМОЛЁТЫ: 80
    ВЕРТОЛЁТЫ: 40
9. ПРИГЛАШЕНИЕ НАБЛЮДАТЕЛЕЙ: ДА
10. СИЛЫ И СРЕДСТВА: 1
10.1. 1-я гвардейская танковая армия — НАЗЕМНЫЕ ПОДРАЗДЕЛЕНИЯ: 1
11. ПРИМЕЧАНИЯ: Командно-штабное учение с практическими действиями войск.
КОНЕЦ СООБЩЕНИЯ
"""

CANCELLATION_EN = """\
HOTLINE MESSAGE
FROM: RU
TO: US
MSG ID: f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f
DTG: 021800Z DEC 26
SUBJECT: NOTICE CANCELLATION
1. CANCELLED NOTICE: MSG ID 0f6c2a1e-7b3d-4e59-8a21-5c9d3e7f1a04
2. CANCELLED: THE WHOLE NOTICE
3. REASON: Пуск отменён.
END OF MESSAGE
"""

CANCELLATION_RU = """\
СООБЩЕНИЕ ПО ЛИНИИ ПРЯМОЙ СВЯЗИ
ОТ: RU
КОМУ: US
НОМЕР СООБЩЕНИЯ: f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f
ДАТА-ВРЕМЯ: 021800Z ДЕК 26
ТЕМА: ОТМЕНА УВЕДОМЛЕНИЯ
1. ОТМЕНЯЕМОЕ УВЕДОМЛЕНИЕ: СООБЩЕНИЕ 0f6c2a1e-7b3d-4e59-8a21-5c9d3e7f1a04
2. ОТМЕНЕНО: УВЕДОМЛЕНИЕ ПОЛНОСТЬЮ
3. ОБОСНОВАНИЕ: Пуск отменён.
КОНЕЦ СООБЩЕНИЯ
"""

ANSWER_EN = """\
HOTLINE MESSAGE
FROM: RU
TO: US
MSG ID: c4d5e6f7-0a1b-4c2d-8e3f-9a0b1c2d3e4f
DTG: 210645Z NOV 26
SUBJECT: DECONFLICTION ANSWER
1. REFERENCE: MSG ID 7c1e5b2a-4d3f-4a8e-b6c9-0e1f2a3b4c5d
2. ANSWER: COUNTER-PROPOSAL
3. REASON: Зона V1 смещена на 20 км к востоку, верхняя граница снижена до 6000 м.
4. PROPOSED VOLUMES: 1
4.1. VOLUME V1
    SHAPE: POLYGON, 4 POINTS
    POINT 1: 53°30'00"N 024°30'00"E, MGRS 35U LV 34184 30802
    POINT 2: 53°30'00"N 025°30'00"E, MGRS 35U MV 00504 28940
    POINT 3: 54°00'00"N 025°30'00"E, MGRS 35U MV 01679 84562
    POINT 4: 54°00'00"N 024°30'00"E, MGRS 35U LV 36142 86414
    ALTITUDE: FROM 0 m (0 ft, FL000) TO 6000 m (19685 ft, FL197) MSL
    TIME: FROM 250800Z NOV 26 TO 251200Z NOV 26
END OF MESSAGE
"""

ANSWER_RU = """\
СООБЩЕНИЕ ПО ЛИНИИ ПРЯМОЙ СВЯЗИ
ОТ: RU
КОМУ: US
НОМЕР СООБЩЕНИЯ: c4d5e6f7-0a1b-4c2d-8e3f-9a0b1c2d3e4f
ДАТА-ВРЕМЯ: 210645Z НОЯ 26
ТЕМА: ОТВЕТ НА ЗАПРОС О ПРЕДОТВРАЩЕНИИ КОНФЛИКТНОЙ СИТУАЦИИ
1. ССЫЛКА: СООБЩЕНИЕ 7c1e5b2a-4d3f-4a8e-b6c9-0e1f2a3b4c5d
2. ОТВЕТ: ВСТРЕЧНОЕ ПРЕДЛОЖЕНИЕ
3. ОБОСНОВАНИЕ: Зона V1 смещена на 20 км к востоку, верхняя граница снижена до 6000 м.
4. ПРЕДЛАГАЕМЫЕ ЗОНЫ: 1
4.1. ЗОНА V1
    ФОРМА: МНОГОУГОЛЬНИК, ТОЧЕК: 4
    ТОЧКА 1: 53°30'00" с.ш. 024°30'00" в.д., MGRS 35U LV 34184 30802
    ТОЧКА 2: 53°30'00" с.ш. 025°30'00" в.д., MGRS 35U MV 00504 28940
    ТОЧКА 3: 54°00'00" с.ш. 025°30'00" в.д., MGRS 35U MV 01679 84562
    ТОЧКА 4: 54°00'00" с.ш. 024°30'00" в.д., MGRS 35U LV 36142 86414
    ВЫСОТА: ОТ 0 м (0 фт, ЭШ000) ДО 6000 м (19685 фт, ЭШ197) НАД УРОВНЕМ МОРЯ
    ВРЕМЯ: С 250800Z НОЯ 26 ДО 251200Z НОЯ 26
КОНЕЦ СООБЩЕНИЯ
"""

EXERCISE_EN = """\
HOTLINE MESSAGE
FROM: RU
TO: US
MSG ID: 9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e
DTG: 200900Z JUL 27
SUBJECT: EXERCISE NOTIFICATION
1. EXERCISE: Щит Союза-2027
2. TIME: FROM 100400Z SEP 27 TO 161600Z SEP 27
3. AREA
    SHAPE: POLYGON, 4 POINTS
    POINT 1: 53°00'00"N 027°00'00"E, MGRS 35U NU 00000 72270
    POINT 2: 53°00'00"N 029°00'00"E, MGRS 35U PU 34213 74141
    POINT 3: 54°00'00"N 029°00'00"E, MGRS 35U PV 31090 85372
    POINT 4: 54°00'00"N 027°00'00"E, MGRS 35U NV 00000 83521
4. TROOPS: 14500
5. EQUIPMENT:
    TANKS: 250
    ARMOURED COMBAT VEHICLES: 470
    ARTILLERY PIECES: 240
    AIRCRAFT: 80
    HELICOPTERS: 40
6. OBSERVERS INVITED: YES
7. UNITS: 1
7.1. 1-я гвардейская танковая армия — GROUND UNITS: 1
8. REMARKS: Командно-штабное учение с практическими действиями войск.
END OF MESSAGE
"""

EXERCISE_RU = """\
СООБЩЕНИЕ ПО ЛИНИИ ПРЯМОЙ СВЯЗИ
ОТ: RU
КОМУ: US
НОМЕР СООБЩЕНИЯ: 9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e
ДАТА-ВРЕМЯ: 200900Z ИЮЛ 27
ТЕМА: УВЕДОМЛЕНИЕ ОБ УЧЕНИИ
1. УЧЕНИЕ: Щит Союза-2027
2. ВРЕМЯ: С 100400Z СЕН 27 ДО 161600Z СЕН 27
3. РАЙОН
    ФОРМА: МНОГОУГОЛЬНИК, ТОЧЕК: 4
    ТОЧКА 1: 53°00'00" с.ш. 027°00'00" в.д., MGRS 35U NU 00000 72270
    ТОЧКА 2: 53°00'00" с.ш. 029°00'00" в.д., MGRS 35U PU 34213 74141
    ТОЧКА 3: 54°00'00" с.ш. 029°00'00" в.д., MGRS 35U PV 31090 85372
    ТОЧКА 4: 54°00'00" с.ш. 027°00'00" в.д., MGRS 35U NV 00000 83521
4. ЛИЧНЫЙ СОСТАВ: 14500
5. ВООРУЖЕНИЕ И ВОЕННАЯ ТЕХНИКА:
    ТАНКИ: 250
    БОЕВЫЕ БРОНИРОВАННЫЕ МАШИНЫ: 470
    АРТИЛЛЕРИЙСКИЕ СИСТЕМЫ: 240
    САМОЛЁТЫ: 80
    ВЕРТОЛЁТЫ: 40
6. ПРИГЛАШЕНИЕ НАБЛЮДАТЕЛЕЙ: ДА
7. СИЛЫ И СРЕДСТВА: 1
7.1. 1-я гвардейская танковая армия — НАЗЕМНЫЕ ПОДРАЗДЕЛЕНИЯ: 1
8. ПРИМЕЧАНИЯ: Командно-штабное учение с практическими действиями войск.
КОНЕЦ СООБЩЕНИЯ
"""

INVITATION_EN = """\
HOTLINE MESSAGE
FROM: RU
TO: US
MSG ID: e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b
DTG: 200905Z JUL 27
SUBJECT: OBSERVER INVITATION
1. EXERCISE REFERENCE: MSG ID 9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e
2. NUMBER OF OBSERVERS: 2
3. ARRIVAL POINT: Минск, Национальный аэропорт
    53°53'00"N 028°02'00"E, MGRS 35U NV 67922 71036
4. ARRIVAL TIME: 111000Z SEP 27
5. PROGRAMME: 3
5.1. 120600Z SEP 27: Брифинг руководителя учения.
5.2. 130500Z SEP 27: Наблюдение за действиями войск на полигоне.
5.3. 151200Z SEP 27: Убытие наблюдателей.
END OF MESSAGE
"""

INVITATION_RU = """\
СООБЩЕНИЕ ПО ЛИНИИ ПРЯМОЙ СВЯЗИ
ОТ: RU
КОМУ: US
НОМЕР СООБЩЕНИЯ: e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b
ДАТА-ВРЕМЯ: 200905Z ИЮЛ 27
ТЕМА: ПРИГЛАШЕНИЕ НАБЛЮДАТЕЛЕЙ
1. ССЫЛКА НА УВЕДОМЛЕНИЕ ОБ УЧЕНИИ: СООБЩЕНИЕ 9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e
2. ЧИСЛО НАБЛЮДАТЕЛЕЙ: 2
3. ПУНКТ ПРИБЫТИЯ: Минск, Национальный аэропорт
    53°53'00" с.ш. 028°02'00" в.д., MGRS 35U NV 67922 71036
4. ВРЕМЯ ПРИБЫТИЯ: 111000Z СЕН 27
5. ПРОГРАММА: 3
5.1. 120600Z СЕН 27: Брифинг руководителя учения.
5.2. 130500Z СЕН 27: Наблюдение за действиями войск на полигоне.
5.3. 151200Z СЕН 27: Убытие наблюдателей.
КОНЕЦ СООБЩЕНИЯ
"""

# The hash is the example's phrasebook_hash; test_phrasebook.py checks it is the packaged one's.
CODED_EN = """\
HOTLINE MESSAGE
FROM: US
TO: RU
MSG ID: 5d0c8f1e-2b7a-4c3d-9e6f-a1b2c3d4e5f6
DTG: 220030Z NOV 26
SUBJECT: CODED MESSAGE
1. CODE: 7
2. PHRASEBOOK: VERSION 2026.1, SHA-256 \
2c118e7972b4dcf69f06695fc836474be977a3bcd22deec8fb28763022f3137e
3. TEXT (ENGLISH): Our activity is an exercise, not a threat.
4. TEXT (RUSSIAN): Наша деятельность является учением и не представляет угрозы.
END OF MESSAGE
"""

CODED_RU = """\
СООБЩЕНИЕ ПО ЛИНИИ ПРЯМОЙ СВЯЗИ
ОТ: US
КОМУ: RU
НОМЕР СООБЩЕНИЯ: 5d0c8f1e-2b7a-4c3d-9e6f-a1b2c3d4e5f6
ДАТА-ВРЕМЯ: 220030Z НОЯ 26
ТЕМА: КОДОВОЕ СООБЩЕНИЕ
1. КОД: 7
2. РАЗГОВОРНИК: ВЕРСИЯ 2026.1, SHA-256 \
2c118e7972b4dcf69f06695fc836474be977a3bcd22deec8fb28763022f3137e
3. ТЕКСТ (АНГЛИЙСКИЙ): Our activity is an exercise, not a threat.
4. ТЕКСТ (РУССКИЙ): Наша деятельность является учением и не представляет угрозы.
КОНЕЦ СООБЩЕНИЯ
"""

CASES = [
    (
        "activity_notice_missile_launch.json",
        "0f6c2a1e-7b3d-4e59-8a21-5c9d3e7f1a04",
        MISSILE_EN,
        MISSILE_RU,
    ),
    (
        "activity_notice_hazardous_activity.json",
        "6a0e4b8c-1f2d-4c3a-9b5e-7d8f0a1b2c3d",
        HAZARD_EN,
        HAZARD_RU,
    ),
    ("incident_report.json", "2b9d6e1f-3a4c-4d5e-8f70-1a2b3c4d5e6f", INCIDENT_EN, INCIDENT_RU),
    ("deconfliction_request.json", "7c1e5b2a-4d3f-4a8e-b6c9-0e1f2a3b4c5d", REQUEST_EN, REQUEST_RU),
    ("deconfliction_answer.json", "c4d5e6f7-0a1b-4c2d-8e3f-9a0b1c2d3e4f", ANSWER_EN, ANSWER_RU),
    (
        "exercise_notification.json",
        "9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e",
        EXERCISE_EN,
        EXERCISE_RU,
    ),
    (
        "observer_invitation.json",
        "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b",
        INVITATION_EN,
        INVITATION_RU,
    ),
    ("coded_message.json", "5d0c8f1e-2b7a-4c3d-9e6f-a1b2c3d4e5f6", CODED_EN, CODED_RU),
    (
        "deconfliction_concurrence.json",
        "a7b8c9d0-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
        CONCURRENCE_EN,
        CONCURRENCE_RU,
    ),
    ("notice_amendment.json", "d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a", AMENDMENT_EN, AMENDMENT_RU),
    (
        "notice_cancellation.json",
        "f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f",
        CANCELLATION_EN,
        CANCELLATION_RU,
    ),
]


@pytest.mark.parametrize(("name", "message_id", "expected_en", "expected_ru"), CASES)
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_example_renders_exactly(
    name: str, message_id: str, expected_en: str, expected_ru: str, lang: str
) -> None:
    expected = expected_en if lang == "en" else expected_ru

    assert expected == render_example(name, lang, message_id)


LEGACY_REQUEST = Path(__file__).parent / "legacy_deconfliction_request.json"


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_stored_request_of_the_older_form_still_parses_and_renders(lang: str) -> None:
    # the volumes of concern copied in, as requests were sent before notice versions
    body = json.loads(LEGACY_REQUEST.read_text(encoding="utf-8"))
    notice = parse_notice(body)

    text = render(
        notice,
        lang,
        sender="us",
        receiver="ru",
        message_id="7c1e5b2a-4d3f-4a8e-b6c9-0e1f2a3b4c5d",
        sent_at=datetime(2026, 11, 20, 15, 20, tzinfo=UTC),
    )

    assert body == to_wire(notice)
    assert (REQUEST_QUOTED_EN if lang == "en" else REQUEST_QUOTED_RU) == text


def test_a_withdrawal_of_some_volumes_names_them() -> None:
    body = {
        "type": "notice_cancellation",
        "refers_to": "0f6c2a1e-7b3d-4e59-8a21-5c9d3e7f1a04",
        "volumes": ["L1", "L2"],
        "reason": "Second salvo cancelled.",
    }

    en, ru = (render(parse_notice(body), lang).splitlines()[6:9] for lang in ("en", "ru"))

    assert [
        "1. CANCELLED NOTICE: MSG ID 0f6c2a1e-7b3d-4e59-8a21-5c9d3e7f1a04",
        "2. CANCELLED: VOLUMES L1, L2 WITHDRAWN",
        "3. REASON: Second salvo cancelled.",
    ] == en
    assert [
        "1. ОТМЕНЯЕМОЕ УВЕДОМЛЕНИЕ: СООБЩЕНИЕ 0f6c2a1e-7b3d-4e59-8a21-5c9d3e7f1a04",
        "2. ОТМЕНЕНО: ЗОНЫ L1, L2 ОТОЗВАНЫ",
        "3. ОБОСНОВАНИЕ: Second salvo cancelled.",
    ] == ru


def test_a_request_with_proposals_lists_them_after_the_volumes_of_concern() -> None:
    body = load_example("deconfliction_request.json")
    body["proposed"] = load_example("deconfliction_answer.json")["volumes"]

    en = render(parse_notice(body), "en").splitlines()

    assert "3. PROPOSED VOLUMES: 1" == en[9]
    assert "3.1. VOLUME V1" == en[10]
    assert en[-2].startswith("4. CONCERN: ")


def test_unknown_header_facts_show_as_dashes() -> None:
    notice = parse_notice(load_example("activity_notice_hazardous_activity.json"))

    head = render(notice, "en").splitlines()[:6]

    expected = [
        "HOTLINE MESSAGE",
        "FROM: —",
        "TO: —",
        "MSG ID: —",
        "DTG: —",
        "SUBJECT: ACTIVITY NOTICE",
    ]
    assert expected == head


def test_multi_line_remarks_are_kept_and_indented() -> None:
    body = load_example("activity_notice_hazardous_activity.json")
    body["remarks"] = "Live gunnery.\nRemain clear."

    lines = render(parse_notice(body), "en").splitlines()

    assert ["5. REMARKS: Live gunnery.", "    Remain clear."] == lines[-3:-1]


def test_incident_without_altitude_says_not_stated() -> None:
    body = load_example("incident_report.json")
    del body["altitude_m"], body["datum"]

    lines = render(parse_notice(body), "ru").splitlines()

    assert "3. ВЫСОТА: НЕ УКАЗАНО" == lines[8]


def test_concurring_answer_has_no_volumes_and_may_have_no_reason() -> None:
    body = load_example("deconfliction_answer.json") | {"answer": "concur"}
    del body["volumes"], body["reason"]

    body_lines = render(parse_notice(body), "en").splitlines()[6:]

    expected = [
        "1. REFERENCE: MSG ID 7c1e5b2a-4d3f-4a8e-b6c9-0e1f2a3b4c5d",
        "2. ANSWER: CONCUR",
        "3. REASON: NONE",
        "4. PROPOSED VOLUMES: NONE",
        "END OF MESSAGE",
    ]
    assert expected == body_lines


def test_exercise_without_equipment_or_units_says_not_stated() -> None:
    body = load_example("exercise_notification.json")
    for name in (
        "tanks",
        "armoured_combat_vehicles",
        "artillery",
        "aircraft",
        "helicopters",
        "units",
    ):
        body.pop(name)

    lines = render(parse_notice(body), "en").splitlines()

    assert [
        "5. EQUIPMENT: NOT STATED",
        "6. OBSERVERS INVITED: YES",
        "7. UNITS: NOT STATED",
    ] == lines[15:18]


# --- every activity kind, incident category and datum: the line that names it ----------------
# The hazardous-activity and incident examples with one field changed; the expected lines
# are written by hand (feet: 3000 m / 0.3048 = 9842.5 -> 9843; 7500 m -> 24606.3 -> 24606).

ACTIVITY_LINES = [
    ("air_operations", "1. ACTIVITY: AIR OPERATIONS", "1. ВИД ДЕЯТЕЛЬНОСТИ: ДЕЙСТВИЯ АВИАЦИИ"),
    ("naval_transit", "1. ACTIVITY: NAVAL TRANSIT", "1. ВИД ДЕЯТЕЛЬНОСТИ: ПЕРЕХОД КОРАБЛЕЙ"),
    (
        "naval_exercise",
        "1. ACTIVITY: NAVAL EXERCISE",
        "1. ВИД ДЕЯТЕЛЬНОСТИ: ВОЕННО-МОРСКОЕ УЧЕНИЕ",
    ),
    (
        "ground_exercise",
        "1. ACTIVITY: GROUND EXERCISE",
        "1. ВИД ДЕЯТЕЛЬНОСТИ: УЧЕНИЕ СУХОПУТНЫХ ВОЙСК",
    ),
]
CATEGORY_LINES = [
    (
        "unsafe_approach_at_sea",
        "4. CATEGORY: UNSAFE APPROACH AT SEA",
        "4. КАТЕГОРИЯ: НЕБЕЗОПАСНОЕ СБЛИЖЕНИЕ В МОРЕ",
    ),
    (
        "airspace_violation",
        "4. CATEGORY: AIRSPACE VIOLATION",
        "4. КАТЕГОРИЯ: НАРУШЕНИЕ ВОЗДУШНОГО ПРОСТРАНСТВА",
    ),
    (
        "weapon_or_fire_control_radar_aimed",
        "4. CATEGORY: WEAPON OR FIRE-CONTROL RADAR AIMED",
        "4. КАТЕГОРИЯ: НАВЕДЕНИЕ ОРУЖИЯ ИЛИ РЛС УПРАВЛЕНИЯ ОГНЁМ",
    ),
    (
        "laser_or_light_at_bridge",
        "4. CATEGORY: LASER OR LIGHT AIMED AT BRIDGE",
        "4. КАТЕГОРИЯ: ОСВЕЩЕНИЕ ХОДОВОГО МОСТИКА ЛАЗЕРОМ ИЛИ ПРОЖЕКТОРОМ",
    ),
    ("other", "4. CATEGORY: OTHER", "4. КАТЕГОРИЯ: ПРОЧЕЕ"),
]
VOLUME_DATUM_LINES = [
    (
        "AGL",
        "    ALTITUDE: FROM 0 m (0 ft) TO 3000 m (9843 ft) AGL",
        "    ВЫСОТА: ОТ 0 м (0 фт) ДО 3000 м (9843 фт) НАД ПОВЕРХНОСТЬЮ ЗЕМЛИ",
    ),
    (
        "WGS84",
        "    ALTITUDE: FROM 0 m (0 ft) TO 3000 m (9843 ft) WGS84 HAE",
        "    ВЫСОТА: ОТ 0 м (0 фт) ДО 3000 м (9843 фт) НАД ЭЛЛИПСОИДОМ WGS-84",
    ),
]
INCIDENT_DATUM_LINES = [
    (
        "AGL",
        "3. ALTITUDE: 7500 m (24606 ft) AGL",
        "3. ВЫСОТА: 7500 м (24606 фт) НАД ПОВЕРХНОСТЬЮ ЗЕМЛИ",
    ),
    (
        "WGS84",
        "3. ALTITUDE: 7500 m (24606 ft) WGS84 HAE",
        "3. ВЫСОТА: 7500 м (24606 фт) НАД ЭЛЛИПСОИДОМ WGS-84",
    ),
]


def both(body: dict[str, object]) -> tuple[list[str], list[str]]:
    notice = parse_notice(body)
    return render(notice, "en").splitlines(), render(notice, "ru").splitlines()


@pytest.mark.parametrize(("activity", "en", "ru"), ACTIVITY_LINES)
def test_each_activity_kind_is_named_in_both_languages(activity: str, en: str, ru: str) -> None:
    body = load_example("activity_notice_hazardous_activity.json") | {"activity": activity}

    lines_en, lines_ru = both(body)

    assert (en, ru) == (lines_en[6], lines_ru[6])


@pytest.mark.parametrize(("category", "en", "ru"), CATEGORY_LINES)
def test_each_incident_category_is_named_in_both_languages(category: str, en: str, ru: str) -> None:
    body = load_example("incident_report.json") | {"category": category}

    lines_en, lines_ru = both(body)

    assert (en, ru) == (lines_en[9], lines_ru[9])


@pytest.mark.parametrize(("datum", "en", "ru"), VOLUME_DATUM_LINES)
def test_volume_altitudes_name_their_datum_without_a_flight_level(
    datum: str, en: str, ru: str
) -> None:
    body = load_example("activity_notice_hazardous_activity.json")
    body["volumes"][0]["properties"]["datum"] = datum

    lines_en, lines_ru = both(body)

    assert (en, ru) == (lines_en[13], lines_ru[13])


@pytest.mark.parametrize(("datum", "en", "ru"), INCIDENT_DATUM_LINES)
def test_incident_altitude_names_its_datum_without_a_flight_level(
    datum: str, en: str, ru: str
) -> None:
    body = load_example("incident_report.json") | {"datum": datum}

    lines_en, lines_ru = both(body)

    assert (en, ru) == (lines_en[8], lines_ru[8])
