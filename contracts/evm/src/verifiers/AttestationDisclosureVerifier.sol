// SPDX-License-Identifier: GPL-3.0
/*
    Copyright 2021 0KIMS association.

    This file is generated with [snarkJS](https://github.com/iden3/snarkjs).

    snarkJS is a free software: you can redistribute it and/or modify it
    under the terms of the GNU General Public License as published by
    the Free Software Foundation, either version 3 of the License, or
    (at your option) any later version.

    snarkJS is distributed in the hope that it will be useful, but WITHOUT
    ANY WARRANTY; without even the implied warranty of MERCHANTABILITY
    or FITNESS FOR A PARTICULAR PURPOSE. See the GNU General Public
    License for more details.

    You should have received a copy of the GNU General Public License
    along with snarkJS. If not, see <https://www.gnu.org/licenses/>.
*/

pragma solidity >=0.7.0 <0.9.0;

contract AttestationDisclosureVerifier {
    // Scalar field size
    uint256 constant r    = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    // Base field size
    uint256 constant q   = 21888242871839275222246405745257275088696311157297823662689037894645226208583;

    // Verification Key data
    uint256 constant alphax  = 4592080423430298928999804173420192922002772140335706801064869627079406565983;
    uint256 constant alphay  = 12209288328606716110459307182687198786853329470644352431271231147702989613490;
    uint256 constant betax1  = 17959245854786428986152393336474626203796592070021058727606642014253576491514;
    uint256 constant betax2  = 4041992959994819255818124060056167923260275698617085944941606034681357522658;
    uint256 constant betay1  = 6489985785135840451088092976141163914714138443839012796721810776558611137332;
    uint256 constant betay2  = 5111232357749671205004870003510555394392568158129910076336457076238561975515;
    uint256 constant gammax1 = 11559732032986387107991004021392285783925812861821192530917403151452391805634;
    uint256 constant gammax2 = 10857046999023057135944570762232829481370756359578518086990519993285655852781;
    uint256 constant gammay1 = 4082367875863433681332203403145435568316851327593401208105741076214120093531;
    uint256 constant gammay2 = 8495653923123431417604973247489272438418190587263600148770280649306958101930;
    uint256 constant deltax1 = 5790217500155524943991533623932518959191065948678847746044632516859634337542;
    uint256 constant deltax2 = 3550818378221744138920356958932101254249482685496805975877663897312604267850;
    uint256 constant deltay1 = 21522492486521607952324603113530094967910046175913024024903796949098213855758;
    uint256 constant deltay2 = 21307274111389547482784651093939441306152439382862053686004752480714367315991;

    
    uint256 constant IC0x = 9414952423799080680689822718911704763816114709909957280242925682153682497200;
    uint256 constant IC0y = 8062572448890465367565193316035908773451520121294796855532293694002595952831;
    
    uint256 constant IC1x = 8344011801141390447498569959365222564482916046097584577325116810698141340148;
    uint256 constant IC1y = 2038930892976444508644844655986944178098951434708955963951670360455705932049;
    
    uint256 constant IC2x = 10377101574491635815580197268544525713989791828762176416806652561755401849482;
    uint256 constant IC2y = 8933563008441667614904546218583912176810803846720556155392666192614183699384;
    
    uint256 constant IC3x = 6350368740775768749234779451615845817131194410419114696616654863134101791835;
    uint256 constant IC3y = 6909534891868729177151579202762379076707343878911491821772588058256723665952;
    
    uint256 constant IC4x = 10256507164753709992637241692898925891521643598862440577001761196929105269142;
    uint256 constant IC4y = 5822418955935699429802166210396658400152070864765768035567058659500447304545;
    
    uint256 constant IC5x = 20664266109335209684549819262205727222184274002459170574358927946362845334593;
    uint256 constant IC5y = 9608227960084202223220049481205971504738926111354944540193773728028348155421;
    
    uint256 constant IC6x = 10000653982334316361200984671764358448560314609035519291435810935743718430936;
    uint256 constant IC6y = 19127910500048025544016554412927816627283924315880328724044394011608852098174;
    
    uint256 constant IC7x = 11459581096705681317586752194634897181700812956709818766542497953200925741908;
    uint256 constant IC7y = 13467758284591017981219026811241284424180670658556853794408628061955740727595;
    
    uint256 constant IC8x = 5036141162206204275933389254261111427223256733525364772407459751869777624126;
    uint256 constant IC8y = 15451940333534471176176797608059731908248469148898653466142251016212656748105;
    
    uint256 constant IC9x = 8262404652645833442435479182453537903688712075494416939200168345518419937399;
    uint256 constant IC9y = 17335480385970451801858533352482868153975604907316654341184620744708374597503;
    
    uint256 constant IC10x = 7172851773490357585218617545611293976233315000077597520634679114074553406749;
    uint256 constant IC10y = 2516509209655220482352825565241509025886101885878251976808301540968540908533;
    
    uint256 constant IC11x = 5675254928209923053680221430894302385871838223592193737016928522968111735787;
    uint256 constant IC11y = 18998693977783455612425305324960141014212273708546121255530869600053797048950;
    
    uint256 constant IC12x = 11024607269199101969669084129696503750827991579267803041386439192510305929576;
    uint256 constant IC12y = 13871935666516096969034957693038340020030511310610600356086068581481016100519;
    
    uint256 constant IC13x = 16611976752711583033867090762684705315319881413120728870518553426121397988547;
    uint256 constant IC13y = 1591995856465888277038459348800691247244152090881547734198671753961791623761;
    
    uint256 constant IC14x = 11316996123321071413942401410843999149084535769812088312267224768792607494360;
    uint256 constant IC14y = 16688556571099623587402102190272656855439201701255808327705888463003116124499;
    
    uint256 constant IC15x = 16478664894439883938599012156209219100954924411661052482530458393417858068237;
    uint256 constant IC15y = 10413882396493732968697443123612909089044715395042527812939851210956446944872;
    
    uint256 constant IC16x = 8374762983333126360488501189775149348718117727530720107035222838715365824979;
    uint256 constant IC16y = 15249545843568266086556312762456665340370284423709972257572039912914189333904;
    
 
    // Memory data
    uint16 constant pVk = 0;
    uint16 constant pPairing = 128;

    uint16 constant pLastMem = 896;

    function verifyProof(uint[2] calldata _pA, uint[2][2] calldata _pB, uint[2] calldata _pC, uint[16] calldata _pubSignals) public view returns (bool) {
        assembly {
            function checkField(v) {
                if iszero(lt(v, r)) {
                    mstore(0, 0)
                    return(0, 0x20)
                }
            }
            
            // G1 function to multiply a G1 value(x,y) to value in an address
            function g1_mulAccC(pR, x, y, s) {
                let success
                let mIn := mload(0x40)
                mstore(mIn, x)
                mstore(add(mIn, 32), y)
                mstore(add(mIn, 64), s)

                success := staticcall(sub(gas(), 2000), 7, mIn, 96, mIn, 64)

                if iszero(success) {
                    mstore(0, 0)
                    return(0, 0x20)
                }

                mstore(add(mIn, 64), mload(pR))
                mstore(add(mIn, 96), mload(add(pR, 32)))

                success := staticcall(sub(gas(), 2000), 6, mIn, 128, pR, 64)

                if iszero(success) {
                    mstore(0, 0)
                    return(0, 0x20)
                }
            }

            function checkPairing(pA, pB, pC, pubSignals, pMem) -> isOk {
                let _pPairing := add(pMem, pPairing)
                let _pVk := add(pMem, pVk)

                mstore(_pVk, IC0x)
                mstore(add(_pVk, 32), IC0y)

                // Compute the linear combination vk_x
                
                g1_mulAccC(_pVk, IC1x, IC1y, calldataload(add(pubSignals, 0)))
                
                g1_mulAccC(_pVk, IC2x, IC2y, calldataload(add(pubSignals, 32)))
                
                g1_mulAccC(_pVk, IC3x, IC3y, calldataload(add(pubSignals, 64)))
                
                g1_mulAccC(_pVk, IC4x, IC4y, calldataload(add(pubSignals, 96)))
                
                g1_mulAccC(_pVk, IC5x, IC5y, calldataload(add(pubSignals, 128)))
                
                g1_mulAccC(_pVk, IC6x, IC6y, calldataload(add(pubSignals, 160)))
                
                g1_mulAccC(_pVk, IC7x, IC7y, calldataload(add(pubSignals, 192)))
                
                g1_mulAccC(_pVk, IC8x, IC8y, calldataload(add(pubSignals, 224)))
                
                g1_mulAccC(_pVk, IC9x, IC9y, calldataload(add(pubSignals, 256)))
                
                g1_mulAccC(_pVk, IC10x, IC10y, calldataload(add(pubSignals, 288)))
                
                g1_mulAccC(_pVk, IC11x, IC11y, calldataload(add(pubSignals, 320)))
                
                g1_mulAccC(_pVk, IC12x, IC12y, calldataload(add(pubSignals, 352)))
                
                g1_mulAccC(_pVk, IC13x, IC13y, calldataload(add(pubSignals, 384)))
                
                g1_mulAccC(_pVk, IC14x, IC14y, calldataload(add(pubSignals, 416)))
                
                g1_mulAccC(_pVk, IC15x, IC15y, calldataload(add(pubSignals, 448)))
                
                g1_mulAccC(_pVk, IC16x, IC16y, calldataload(add(pubSignals, 480)))
                

                // -A
                mstore(_pPairing, calldataload(pA))
                mstore(add(_pPairing, 32), mod(sub(q, calldataload(add(pA, 32))), q))

                // B
                mstore(add(_pPairing, 64), calldataload(pB))
                mstore(add(_pPairing, 96), calldataload(add(pB, 32)))
                mstore(add(_pPairing, 128), calldataload(add(pB, 64)))
                mstore(add(_pPairing, 160), calldataload(add(pB, 96)))

                // alpha1
                mstore(add(_pPairing, 192), alphax)
                mstore(add(_pPairing, 224), alphay)

                // beta2
                mstore(add(_pPairing, 256), betax1)
                mstore(add(_pPairing, 288), betax2)
                mstore(add(_pPairing, 320), betay1)
                mstore(add(_pPairing, 352), betay2)

                // vk_x
                mstore(add(_pPairing, 384), mload(add(pMem, pVk)))
                mstore(add(_pPairing, 416), mload(add(pMem, add(pVk, 32))))


                // gamma2
                mstore(add(_pPairing, 448), gammax1)
                mstore(add(_pPairing, 480), gammax2)
                mstore(add(_pPairing, 512), gammay1)
                mstore(add(_pPairing, 544), gammay2)

                // C
                mstore(add(_pPairing, 576), calldataload(pC))
                mstore(add(_pPairing, 608), calldataload(add(pC, 32)))

                // delta2
                mstore(add(_pPairing, 640), deltax1)
                mstore(add(_pPairing, 672), deltax2)
                mstore(add(_pPairing, 704), deltay1)
                mstore(add(_pPairing, 736), deltay2)


                let success := staticcall(sub(gas(), 2000), 8, _pPairing, 768, _pPairing, 0x20)

                isOk := and(success, mload(_pPairing))
            }

            let pMem := mload(0x40)
            mstore(0x40, add(pMem, pLastMem))

            // Validate that all evaluations ∈ F
            
            checkField(calldataload(add(_pubSignals, 0)))
            
            checkField(calldataload(add(_pubSignals, 32)))
            
            checkField(calldataload(add(_pubSignals, 64)))
            
            checkField(calldataload(add(_pubSignals, 96)))
            
            checkField(calldataload(add(_pubSignals, 128)))
            
            checkField(calldataload(add(_pubSignals, 160)))
            
            checkField(calldataload(add(_pubSignals, 192)))
            
            checkField(calldataload(add(_pubSignals, 224)))
            
            checkField(calldataload(add(_pubSignals, 256)))
            
            checkField(calldataload(add(_pubSignals, 288)))
            
            checkField(calldataload(add(_pubSignals, 320)))
            
            checkField(calldataload(add(_pubSignals, 352)))
            
            checkField(calldataload(add(_pubSignals, 384)))
            
            checkField(calldataload(add(_pubSignals, 416)))
            
            checkField(calldataload(add(_pubSignals, 448)))
            
            checkField(calldataload(add(_pubSignals, 480)))
            

            // Validate all evaluations
            let isValid := checkPairing(_pA, _pB, _pC, _pubSignals, pMem)

            mstore(0, isValid)
             return(0, 0x20)
         }
     }
 }
