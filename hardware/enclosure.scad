// stepclip enclosure: a box for the Pico, the LIS3DH breakout, the charger and
// the LiPo cell, a screwed lid, and a belt clip screwed to its back.
//
// Render:   openscad -o out/enclosure.stl hardware/enclosure.scad      (all parts laid out to print)
//           openscad -D 'part="base"' -o base.stl hardware/enclosure.scad
// part = "print" (base, lid and clip side by side, in print orientation),
//        "base", "lid", "clip" (each in print orientation), or
//        "assembly" (the closed case with its clip, as worn; for looking at only).
//
// Inside (top view; x = length, y = width):
//   lower layer: the cell, flat on the floor (foam tape)
//   upper layer, resting on the two side ledges and on the cell:
//     row 1: the Pico, its USB socket at the x = 0 end (hole in that wall)
//     row 2: the charger at the x = 0 end, then the LIS3DH breakout, then the
//            slide switch against the far end wall (lever through a slot)
// Fasteners: 4 x M2 x 8 self-tapping screws (lid, into the corner posts),
//            2 x M2 x 6 countersunk self-tapping screws (clip, from inside).
// Print: PETG (the clip is a spring; PLA creeps and cracks), 0.2 mm layers,
// no supports: every part is laid out so nothing overhangs more than 45 degrees.
// All sizes in mm. Measure your own boards and cell: sizes vary by supplier.

/* [What to render] */
part = "print"; // [print, base, lid, clip, assembly]

/* [Boards and cell: length, width, height including parts on top] */
pico = [51, 21, 4.0];        // Raspberry Pi Pico / Pico 2: 51 x 21, PCB 1 mm + USB socket
pico_pcb = 1.0;              // Pico PCB thickness (the USB hole is placed from it)
sensor = [25.6, 17.8, 4.6];  // Adafruit LIS3DH 2809 with STEMMA QT sockets
charger = [28, 17.5, 4.8];   // TP4056 + DW01A module (USB-C version is ~28 x 17.5)
cell = [36, 29.5, 5.0];      // 500 mAh LiPo (e.g. Adafruit 1578: 36 x 29.5 x 4.8)
switch_body = [4.5, 9, 4];   // SS12D00 slide switch: depth into the box, width, height
switch_slot = [7, 3.2];      // slot for its lever: width (travel + lever), height
wire_space = 2.5;            // room above the boards for the soldered wires

/* [Walls and fit] */
wall = 1.8;          // side walls
floor_t = 1.8;       // floor (the clip is screwed through it)
lid_t = 1.8;         // lid plate
lid_lip = 1.2;       // lip under the lid that locates it inside the walls
clearance = 0.4;     // gap around each board/cell and between moving fits
gap = 1.0;           // between neighbouring boards in a row
ledge = 2.5;         // width of the side ledges the boards rest on
usb_hole = [12, 8];  // hole for the Micro-USB plug's overmould: width, height

/* [Screws] */
post_r = 3.0;        // corner screw posts (outside the cavity)
post_off = 2.4;      // post centre, diagonally outside each cavity corner
screw_pilot = 1.7;   // M2 self-tapping pilot hole
screw_clear = 2.4;   // M2 clearance hole
screw_head = [4.2, 1.2]; // M2 head: diameter, counterbore depth in the lid

/* [Belt clip] */
clip_width = 20;     // across the clip (along the case's length)
clip_t = 2.4;        // tongue thickness: stiffness (PETG)
belt_gap = 3.5;      // the belt's thickness (leather belts 3-4.5 mm); the lip pinches below it
clip_len_frac = 0.8; // tongue length as a fraction of the case's width
clip_root = 8;       // length of the root block the screws go into
clip_lip = 1.2;      // bump at the free end that keeps the belt in

$fn = 40;

// ---- derived sizes ----
row2_w = max(sensor[1], charger[1]);
row2_l = charger[0] + gap + sensor[0] + gap + switch_body[0];
inner = [
    2 * clearance + max(pico[0], row2_l, cell[0]),
    2 * clearance + pico[1] + gap + row2_w,
    cell[2] + clearance + max(pico[2], sensor[2], charger[2], switch_body[2]) + wire_space
];
ledge_z = floor_t + cell[2] + clearance;  // where the boards' undersides sit
outer = [inner[0] + 2 * wall, inner[1] + 2 * wall, floor_t + inner[2]];
clip_len = clip_len_frac * outer[1];

echo(str("stepclip case outside: ", outer[0], " x ", outer[1], " x ", outer[2] + lid_t,
         " mm (without clip), inside ", inner[0], " x ", inner[1], " x ", inner[2]));

// the cavity corners, for the screw posts
// extrude a 2D profile drawn in the (y, z) plane along x, from x0 over length l
module yz_extrude(x0, l) {
    translate([x0, 0, 0]) multmatrix([[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
        linear_extrude(l) children();
}

function corners() = [[0, 0], [inner[0], 0], [0, inner[1]], [inner[0], inner[1]]];
function post_xy(c) = [c[0] + (c[0] == 0 ? -post_off : post_off),
                       c[1] + (c[1] == 0 ? -post_off : post_off)];

module outline(h) {
    // the outer box (corners rounded to the wall's radius) plus the four corner posts
    hull() for (c = corners()) translate(c) cylinder(r = wall, h = h);
    for (c = corners()) translate(post_xy(c)) cylinder(r = post_r, h = h);
}

module base() {
    difference() {
        outline(outer[2]);
        // cavity
        translate([0, 0, floor_t]) cube([inner[0], inner[1], inner[2] + 1]);
        // USB hole, centred on the Pico's socket, in the x = 0 wall
        translate([-wall - post_r - 1, clearance + pico[1] / 2 - usb_hole[0] / 2,
                   ledge_z + pico_pcb + 1.4 - usb_hole[1] / 2])
            cube([wall + post_r + 2, usb_hole[0], usb_hole[1]]);
        // switch lever slot in the far wall, centred on row 2
        translate([inner[0] - 1, clearance + pico[1] + gap + row2_w / 2 - switch_slot[0] / 2,
                   ledge_z + switch_body[2] / 2 - switch_slot[1] / 2])
            cube([wall + post_r + 2, switch_slot[0], switch_slot[1]]);
        // lid screw pilots in the corner posts
        for (c = corners()) translate(concat(post_xy(c), [floor_t]))
            cylinder(d = screw_pilot, h = outer[2]);
        // clip screws: countersunk from inside the floor
        for (s = clip_screws()) translate([s[0], s[1], -0.01]) {
            cylinder(d = screw_clear, h = floor_t + 0.02);
            translate([0, 0, floor_t - 1.2]) cylinder(d1 = screw_clear, d2 = screw_clear + 2.4, h = 1.21);
        }
    }
    // side ledges (45-degree undersides: no support needed)
    yz_extrude(0, inner[0]) polygon([[0, ledge_z], [ledge, ledge_z], [0, ledge_z - ledge]]);
    yz_extrude(0, inner[0])
        polygon([[inner[1], ledge_z], [inner[1] - ledge, ledge_z], [inner[1], ledge_z - ledge]]);
}

module lid() {
    // modelled in place (underside at z = 0), flipped for printing by the caller
    difference() {
        union() {
            outline(lid_t);
            // locating lip inside the walls
            translate([clearance, clearance, -lid_lip])
                difference() {
                    cube([inner[0] - 2 * clearance, inner[1] - 2 * clearance, lid_lip]);
                    translate([1.2, 1.2, -1])
                        cube([inner[0] - 2 * clearance - 2.4, inner[1] - 2 * clearance - 2.4, lid_lip + 2]);
                }
        }
        for (c = corners()) translate(concat(post_xy(c), [-1])) {
            cylinder(d = screw_clear, h = lid_t + 2);
            translate([0, 0, 1 + lid_t - screw_head[1]]) cylinder(d = screw_head[0], h = screw_head[1] + 1);
        }
    }
}

// clip screws: on the case's centre line along x, in the clip's root (at y = far side)
function clip_screws() = [for (dx = [-clip_width / 4, clip_width / 4])
    [inner[0] / 2 + dx, inner[1] + wall - clip_root / 2]];

module clip() {
    // modelled in place under the floor (top face at z = 0), root at the y = far side
    y_top = inner[1] + wall;            // outer face on the root side
    x0 = inner[0] / 2 - clip_width / 2;
    yf = y_top - clip_len;              // the tongue's free end
    difference() {
        union() {
            // root block: as thick as the belt gap plus the tongue
            translate([x0, y_top - clip_root, -(belt_gap + clip_t)])
                cube([clip_width, clip_root, belt_gap + clip_t]);
            // tongue
            translate([x0, yf, -(belt_gap + clip_t)])
                cube([clip_width, clip_len, clip_t]);
            // lip at the free end, towards the case: the belt squeezes past it
            yz_extrude(x0, clip_width)
                polygon([[yf + 0.5, -belt_gap], [yf + 5.5, -belt_gap], [yf + 3, -belt_gap + clip_lip]]);
            // tip flared away from the case: a lead-in for the belt's edge
            yz_extrude(x0, clip_width)
                polygon([[yf, -belt_gap], [yf, -(belt_gap + clip_t)],
                         [yf - 3, -(belt_gap + clip_t) - 2], [yf - 3, -(belt_gap + 0.6 * clip_t) - 2]]);
        }
        for (s = clip_screws()) translate([s[0], s[1], -(belt_gap + clip_t) + 1.5])
            cylinder(d = screw_pilot, h = belt_gap + clip_t);
    }
}

// print orientations: base floor-down, lid outer face down, clip on its side
module base_print() { base(); }
module lid_print() { translate([0, 0, lid_t]) mirror([0, 0, 1]) lid(); }
module clip_print() {
    // lay the clip's side (x = x0 face) on the bed: the tongue's layers run along it
    translate([0, 0, 0]) rotate([0, -90, 0])
        translate([-(inner[0] / 2 - clip_width / 2), 0, 0]) clip();
}

if (part == "base") base_print();
else if (part == "lid") lid_print();
else if (part == "clip") clip_print();
else if (part == "assembly") {
    base();
    translate([0, 0, outer[2]]) lid();
    clip();
} else {  // print
    base_print();
    translate([0, outer[1] + 2 * post_r + 6, 0]) lid_print();
    translate([outer[0] + 2 * post_r + 6 + belt_gap + clip_t, 0, 0]) clip_print();
}
